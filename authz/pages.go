package authz

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Messages is a page catalogue: the text of the built-in pages by message
// id (the ids of DefaultMessages). A text may hold the placeholders {app},
// {domain}, {user} and {api}, replaced when the page is rendered.
type Messages map[string]string

// DefaultMessages returns a copy of the built-in catalogues, by language
// tag: "en" (the default) and "fr", each with every message id. Hosts add
// or override languages through Config.PageMessages.
func DefaultMessages() map[string]Messages {
	out := make(map[string]Messages, len(builtinMessages))
	for lang, m := range builtinMessages {
		c := make(Messages, len(m))
		for k, v := range m {
			c[k] = v
		}
		out[lang] = c
	}
	return out
}

// maxAcceptLanguages bounds the Accept-Language entries considered.
const maxAcceptLanguages = 20

// pageLanguage negotiates the language of a page from Accept-Language
// (RFC 9110 §12.5.4): the entry of highest weight that a catalogue has,
// by full tag then by primary subtag; "en" when none matches. It returns
// the tag and the catalogue, complete: ids the chosen catalogue lacks come
// from English.
func (s *Server) pageLanguage(r *http.Request) (string, Messages) {
	type choice struct {
		tag string
		q   float64
	}
	var prefs []choice
	if r != nil {
		header := r.Header.Get("Accept-Language")
		for i, part := range strings.Split(header, ",") {
			if i == maxAcceptLanguages {
				break
			}
			tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f < 0 || f > 1 {
					continue
				}
				q = f
			}
			if tag = strings.ToLower(strings.TrimSpace(tag)); tag != "" && tag != "*" && q > 0 {
				prefs = append(prefs, choice{tag, q})
			}
		}
	}
	slices.SortStableFunc(prefs, func(a, b choice) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	for _, p := range prefs {
		primary, _, _ := strings.Cut(p.tag, "-")
		for _, tag := range []string{p.tag, primary} {
			if m := s.catalogue(tag); m != nil {
				return tag, m
			}
		}
	}
	return "en", s.catalogue("en")
}

// catalogue returns the complete catalogue of a language, nil if neither
// the host's catalogues nor the built-in ones have it.
func (s *Server) catalogue(tag string) Messages {
	host := lookupLang(s.cfg.PageMessages, tag)
	builtin := builtinMessages[tag]
	if host == nil && builtin == nil {
		return nil
	}
	m := make(Messages, len(builtinMessages["en"]))
	for _, layer := range []Messages{builtinMessages["en"], lookupLang(s.cfg.PageMessages, "en"), builtin, host} {
		for k, v := range layer {
			m[k] = v
		}
	}
	return m
}

// lookupLang finds a catalogue by tag without regard to case.
func lookupLang(cats map[string]Messages, tag string) Messages {
	for k, m := range cats {
		if strings.EqualFold(k, tag) {
			return m
		}
	}
	return nil
}

// text renders message id of m with its placeholders filled.
func (m Messages) text(id string, args ...string) string {
	return strings.NewReplacer(args...).Replace(m[id])
}

// pageCSS is the style of the built-in pages: no external asset, the
// system font stack, light and dark schemes, a single column that fits a
// phone.
const pageCSS = `:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1b1f24;--muted:#5b6370;--line:#d9dde3;--accent:#1f5fd1;--accent-fg:#fff}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--card:#1b2027;--fg:#e8eaed;--muted:#a3abb6;--line:#343b45;--accent:#6ea0ff;--accent-fg:#0b1220}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
main{max-width:30rem;margin:2rem auto;padding:1.5rem;background:var(--card);border:1px solid var(--line);border-radius:12px}
@media (max-width:480px){main{margin:0;min-height:100vh;border:0;border-radius:0;padding:1.25rem}}
h1{font-size:1.35rem;line-height:1.3;margin:0 0 .5rem}
p{margin:.5rem 0}.muted,small{color:var(--muted)}small{font-size:.8rem;display:block;margin-top:1rem;word-break:break-word}
fieldset{border:1px solid var(--line);border-radius:8px;margin:1rem 0;padding:.5rem 1rem}
legend{padding:0 .25rem;font-weight:600}
label{display:flex;gap:.6rem;align-items:flex-start;padding:.45rem 0}
label input{margin-top:.3rem;width:1.1rem;height:1.1rem;flex:none}
.scope{display:block}.scope code{font-size:.8rem;color:var(--muted)}
.actions{display:flex;flex-direction:row-reverse;gap:.75rem;margin-top:1rem}
button,.button{display:inline-block;font:inherit;padding:.65rem 1.2rem;border-radius:8px;border:1px solid var(--line);background:transparent;color:var(--fg);cursor:pointer;text-decoration:none;text-align:center}
button.primary,.button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-fg);font-weight:600}
@media (max-width:480px){.actions{flex-direction:column}.actions button{width:100%}}
a{color:var(--accent)}`
