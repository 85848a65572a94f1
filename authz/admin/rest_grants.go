package admin

import (
	"net/http"
	"slices"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// grantView is a client grant with its opaque id (client and audience).
type grantView struct {
	ID string `json:"id"`
	*storage.ClientGrant
}

func viewGrant(g *storage.ClientGrant) any {
	return grantView{ID: compositeID(g.Key()), ClientGrant: cloneGrant(g)}
}

// grantOf resolves a client grant id.
func grantOf(w http.ResponseWriter, r *http.Request) (client, audience string, ok bool) {
	parts, ok := splitID(r.PathValue("id"), 2)
	if !ok {
		fail(w, storage.ErrNotFound)
		return "", "", false
	}
	return parts[0], parts[1], true
}

func (h *restAPI) listGrants(w http.ResponseWriter, r *http.Request) {
	q, ok := page(w, r)
	if !ok {
		return
	}
	p, err := h.m.ListClientGrants(r.Context(), r.URL.Query().Get("client_id"), q)
	if err != nil {
		fail(w, err)
		return
	}
	writePage(w, "client_grants", p, viewGrant)
}

func (h *restAPI) createGrant(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, "revision", "id")
	if !ok {
		return
	}
	g := &storage.ClientGrant{}
	if !decodeInto(w, body, g) {
		return
	}
	if err := h.m.CreateClientGrant(r.Context(), g); err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Location", "/api/v2/client-grants/"+compositeID(g.Key()))
	writeRecord(w, http.StatusCreated, g.Revision, viewGrant(g))
}

func (h *restAPI) getGrant(w http.ResponseWriter, r *http.Request) {
	client, aud, ok := grantOf(w, r)
	if !ok {
		return
	}
	g, err := h.m.GetClientGrant(r.Context(), client, aud)
	if err != nil {
		fail(w, err)
		return
	}
	writeRecord(w, http.StatusOK, g.Revision, viewGrant(g))
}

func (h *restAPI) updateGrant(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, "revision", "id", "client_id", "audience")
	if !ok {
		return
	}
	client, aud, ok := grantOf(w, r)
	if !ok {
		return
	}
	g := modify(w, r, func() (*storage.ClientGrant, error) { return h.m.GetClientGrant(r.Context(), client, aud) },
		func(g *storage.ClientGrant) *int64 { return &g.Revision },
		func(g *storage.ClientGrant) bool { return decodeInto(w, body, g) },
		func(g *storage.ClientGrant) error { return h.m.UpdateClientGrant(r.Context(), g) })
	if g != nil {
		writeRecord(w, http.StatusOK, g.Revision, viewGrant(g))
	}
}

func (h *restAPI) deleteGrant(w http.ResponseWriter, r *http.Request) {
	if client, aud, ok := grantOf(w, r); ok {
		deleted(w, h.m.DeleteClientGrant(r.Context(), client, aud))
	}
}

// consentView is a consent (an OIDC grant) with its opaque id.
type consentView struct {
	ID string `json:"id"`
	*storage.Consent
}

func viewConsent(c *storage.Consent) any {
	return consentView{ID: compositeID(c.Key()), Consent: cloneConsent(c)}
}

// listConsents lists the consents, of the user ?user_id names or of all.
func (h *restAPI) listConsents(w http.ResponseWriter, r *http.Request) {
	q, ok := page(w, r)
	if !ok {
		return
	}
	p, err := h.m.ListConsents(r.Context(), r.URL.Query().Get("user_id"), q)
	if err != nil {
		fail(w, err)
		return
	}
	writePage(w, "grants", p, viewConsent)
}

// deleteConsent withdraws a consent and revokes the families it allowed.
func (h *restAPI) deleteConsent(w http.ResponseWriter, r *http.Request) {
	parts, ok := splitID(r.PathValue("id"), 3)
	if !ok {
		fail(w, storage.ErrNotFound)
		return
	}
	deleted(w, h.m.DeleteConsent(r.Context(), parts[0], parts[1], parts[2]))
}

// familyView is a token family (an OIDC session: one sign-in's refresh
// tokens) without secret material or the claims decided at login.
type familyView struct {
	ID        string    `json:"id"`
	ClientID  string    `json:"client_id"`
	Subject   string    `json:"user_id"`
	Audience  string    `json:"audience,omitempty"`
	Scopes    []string  `json:"scope,omitempty"`
	AuthTime  time.Time `json:"authenticated_at"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Revoked   bool      `json:"revoked"`
}

func viewFamily(f *storage.Family) familyView {
	return familyView{ID: f.ID, ClientID: f.ClientID, Subject: f.Subject, Audience: f.Audience,
		Scopes: slices.Clone(f.Scopes), AuthTime: f.AuthTime, CreatedAt: f.CreatedAt, ExpiresAt: f.ExpiresAt, Revoked: f.Revoked}
}

// writeFamilies answers the families kept by keep, under name.
func writeFamilies(w http.ResponseWriter, name string, fams []*storage.Family, keep func(*storage.Family) bool) {
	out := []familyView{}
	for _, f := range fams {
		if keep(f) {
			out = append(out, viewFamily(f))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{name: out})
}

// userFamilies reads the user's families; 404 for an unknown user.
func (h *restAPI) userFamilies(w http.ResponseWriter, r *http.Request) ([]*storage.Family, bool) {
	id := r.PathValue("id")
	if _, err := h.m.GetUser(r.Context(), id); err != nil {
		fail(w, err)
		return nil, false
	}
	fams, err := h.m.ListFamilies(r.Context(), id)
	if err != nil {
		fail(w, err)
		return nil, false
	}
	return fams, true
}

// userSessions lists the user's live sessions (unrevoked token families).
func (h *restAPI) userSessions(w http.ResponseWriter, r *http.Request) {
	if fams, ok := h.userFamilies(w, r); ok {
		writeFamilies(w, "sessions", fams, func(f *storage.Family) bool { return !f.Revoked })
	}
}

// userTokens lists the user's token families, revoked ones included.
func (h *restAPI) userTokens(w http.ResponseWriter, r *http.Request) {
	if fams, ok := h.userFamilies(w, r); ok {
		writeFamilies(w, "tokens", fams, func(*storage.Family) bool { return true })
	}
}

// clientTokens lists the token families issued to the client.
func (h *restAPI) clientTokens(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := h.m.GetClient(r.Context(), id); err != nil {
		fail(w, err)
		return
	}
	fams, err := h.m.ListClientFamilies(r.Context(), id)
	if err != nil {
		fail(w, err)
		return
	}
	writeFamilies(w, "tokens", fams, func(*storage.Family) bool { return true })
}

// deleteSession revokes a token family: its refresh tokens stop working,
// its access tokens are reported revoked.
func (h *restAPI) deleteSession(w http.ResponseWriter, r *http.Request) {
	deleted(w, h.m.RevokeFamily(r.Context(), r.PathValue("id")))
}

// keyView is a signing key without its private JWK.
type keyView struct {
	ID        string     `json:"kid"`
	Alg       string     `json:"alg"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	SignsFrom *time.Time `json:"signs_from,omitempty"`
}

func viewKey(k *storage.SigningKey) any {
	v := keyView{ID: k.ID, Alg: k.Alg, CreatedAt: k.CreatedAt}
	if !k.RetiredAt.IsZero() {
		v.RetiredAt = &k.RetiredAt
	}
	if !k.SignsFrom.IsZero() {
		v.SignsFrom = &k.SignsFrom
	}
	return v
}

func (h *restAPI) listKeys(w http.ResponseWriter, r *http.Request) {
	q, ok := page(w, r)
	if !ok {
		return
	}
	p, err := h.m.ListKeys(r.Context(), q)
	if err != nil {
		fail(w, err)
		return
	}
	writePage(w, "keys", p, viewKey)
}

func (h *restAPI) getKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.m.GetKey(r.Context(), r.PathValue("kid"))
	if err != nil {
		fail(w, err)
		return
	}
	writeRecord(w, http.StatusOK, k.Revision, viewKey(k))
}

// rotateKey creates a signing key for {"alg": ...} that signs from now on.
func (h *restAPI) rotateKey(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var in struct {
		Alg string `json:"alg"`
	}
	if !decodeInto(w, body, &in) {
		return
	}
	kid, err := h.m.RotateKey(r.Context(), in.Alg)
	if err != nil {
		fail(w, err)
		return
	}
	k, err := h.m.GetKey(r.Context(), kid)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Location", "/api/v2/keys/signing/"+kid)
	writeRecord(w, http.StatusCreated, k.Revision, viewKey(k))
}
