package bench

import jose "github.com/go-jose/go-jose/v4"

type joseJWK = jose.JSONWebKey
