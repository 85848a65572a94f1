package main

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// readmePlaceholder is the README's example secret: copied as it is, it is
// public.
const readmePlaceholder = "at-least-32-characters-of-random-data"

// minSecretBits is the least estimated strength of a secret from the file.
const minSecretBits = 128

// checkSecret refuses a client secret that is guessable: the README's
// placeholder, one made of few distinct characters ("aaaa…", "abab…"),
// or one whose estimate, length × log2 of the alphabet its character
// classes span, is under minSecretBits. The estimate is an upper bound
// (words and patterns are not detected), so a secret should come from a
// generator: `openssl rand -base64 32` gives 256 bits.
func checkSecret(secret string) error {
	if strings.Contains(strings.ToLower(secret), readmePlaceholder) {
		return errors.New("this is the README's placeholder: generate a secret, e.g. openssl rand -base64 32")
	}
	if len(secret) < minSecretLen {
		return fmt.Errorf("at least %d characters of random data are required", minSecretLen)
	}
	distinct := map[rune]bool{}
	var lower, upper, digit, other bool
	for _, r := range secret {
		distinct[r] = true
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	if len(distinct) < max(8, len(secret)/4) {
		return fmt.Errorf("only %d distinct characters: repeated characters are guessable; generate a secret, e.g. openssl rand -base64 32", len(distinct))
	}
	alphabet := 0
	for _, c := range []struct {
		in   bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {other, 33}} {
		if c.in {
			alphabet += c.size
		}
	}
	if bits := float64(len(secret)) * math.Log2(float64(alphabet)); bits < minSecretBits {
		return fmt.Errorf("about %.0f bits, at least %d are required: use a longer secret or more kinds of characters, e.g. openssl rand -base64 32", bits, minSecretBits)
	}
	return nil
}
