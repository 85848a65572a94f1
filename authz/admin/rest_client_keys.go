package admin

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/scopekit/scopekit/token"
)

// credentialTypePublicKey is the one credential type of a client: a public
// signing key of its inline JWK Set (private_key_jwt, RFC 7523 §2.2).
const credentialTypePublicKey = "public_key"

// credentialBody is the body of a credential create or update: Auth0's
// credential_type, and the key as a public JWK (RFC 7517 §4).
type credentialBody struct {
	CredentialType string          `json:"credential_type"`
	JWK            json.RawMessage `json:"jwk"`
}

// credentialView is one key of a client's JWK Set as the API shows it:
// its kid is its id.
type credentialView struct {
	ID             string          `json:"id"`
	KID            string          `json:"kid"`
	Alg            string          `json:"alg"`
	CredentialType string          `json:"credential_type"`
	JWK            json.RawMessage `json:"jwk"`
}

// readCredential reads a credential body and checks its key as
// token.ParsePublicJWK does (a private member is a field error of jwk),
// answering 400 when it is not one.
func readCredential(w http.ResponseWriter, r *http.Request) (credentialView, bool) {
	body, ok := readBody(w, r)
	if !ok {
		return credentialView{}, false
	}
	var cb credentialBody
	if !decodeInto(w, body, &cb) {
		return credentialView{}, false
	}
	if cb.CredentialType != "" && cb.CredentialType != credentialTypePublicKey {
		invalid(w, "invalid_body", "credential_type", "must be %q", credentialTypePublicKey)
		return credentialView{}, false
	}
	if len(cb.JWK) == 0 {
		invalid(w, "invalid_body", "jwk", "is required")
		return credentialView{}, false
	}
	k, err := token.ParsePublicJWK(cb.JWK)
	if err != nil {
		invalid(w, "invalid_body", "jwk", "%s", err.Error())
		return credentialView{}, false
	}
	return credentialView{ID: k.KeyID, KID: k.KeyID, Alg: k.Algorithm, CredentialType: credentialTypePublicKey, JWK: cb.JWK}, true
}

// writeCredential answers the key with the client's new ETag.
func (h *restAPI) writeCredential(w http.ResponseWriter, r *http.Request, status int, v credentialView) {
	cl, err := h.m.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeRecord(w, status, cl.Revision, v)
}

// createCredential adds a public key to the client's inline JWK Set.
func (h *restAPI) createCredential(w http.ResponseWriter, r *http.Request) {
	v, ok := readCredential(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := h.m.AddClientJWK(r.Context(), id, v.JWK); err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Location", "/api/v2/clients/"+url.PathEscape(id)+"/credentials/"+url.PathEscape(v.KID))
	h.writeCredential(w, r, http.StatusCreated, v)
}

// updateCredential replaces the key kid by the body's key of that kid
// (a new key under the same id, or the same key with other members).
func (h *restAPI) updateCredential(w http.ResponseWriter, r *http.Request) {
	v, ok := readCredential(w, r)
	if !ok {
		return
	}
	if err := h.m.ReplaceClientJWK(r.Context(), r.PathValue("id"), r.PathValue("kid"), v.JWK); err != nil {
		fail(w, err)
		return
	}
	h.writeCredential(w, r, http.StatusOK, v)
}

// deleteCredential removes the key kid (not the client's last one).
func (h *restAPI) deleteCredential(w http.ResponseWriter, r *http.Request) {
	deleted(w, h.m.RemoveClientJWK(r.Context(), r.PathValue("id"), r.PathValue("kid")))
}

// listCredentials answers the keys of the client's inline JWK Set.
func (h *restAPI) listCredentials(w http.ResponseWriter, r *http.Request) {
	cl, err := h.m.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if len(cl.JWKS) > 0 {
		_ = json.Unmarshal(cl.JWKS, &set) // validated on every write
	}
	out := make([]credentialView, 0, len(set.Keys))
	for _, raw := range set.Keys {
		if k, err := token.ParsePublicJWK(raw); err == nil {
			out = append(out, credentialView{ID: k.KeyID, KID: k.KeyID, Alg: k.Algorithm, CredentialType: credentialTypePublicKey, JWK: raw})
		}
	}
	w.Header().Set("ETag", etag(cl.Revision))
	writeJSON(w, http.StatusOK, map[string]any{"credentials": out})
}
