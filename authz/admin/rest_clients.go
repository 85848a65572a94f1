package admin

import (
	"net/http"
	"net/url"
	"time"

	"github.com/scopekit/scopekit/storage"
)

// clientView is a client as the REST API shows it: never its secret hash;
// the secret itself only in the answers of create and rotate-secret.
type clientView struct {
	*storage.Client
	Secret string `json:"client_secret,omitempty"`
}

// viewClient copies the client without its secret hash.
func viewClient(c *storage.Client) any {
	v := cloneClient(c)
	v.SecretHash = nil
	return clientView{Client: v}
}

// clientReadOnly are the client fields no request sets.
var clientReadOnly = []string{"secret_hash", "revision", "created_at", "client_secret"}

func (h *restAPI) listClients(w http.ResponseWriter, r *http.Request) {
	q, ok := page(w, r)
	if !ok {
		return
	}
	p, err := h.m.ListClients(r.Context(), q)
	if err != nil {
		fail(w, err)
		return
	}
	writePage(w, "clients", p, viewClient)
}

func (h *restAPI) createClient(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, clientReadOnly...)
	if !ok {
		return
	}
	cl := &storage.Client{}
	if !decodeInto(w, body, cl) {
		return
	}
	secret, err := h.m.CreateClient(r.Context(), cl)
	if err != nil {
		fail(w, err)
		return
	}
	v := viewClient(cl).(clientView)
	v.Secret = secret
	w.Header().Set("Location", "/api/v2/clients/"+url.PathEscape(cl.ID))
	writeRecord(w, http.StatusCreated, cl.Revision, v)
}

func (h *restAPI) getClient(w http.ResponseWriter, r *http.Request) {
	cl, err := h.m.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeRecord(w, http.StatusOK, cl.Revision, viewClient(cl))
}

func (h *restAPI) updateClient(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, append(clientReadOnly, "client_id")...)
	if !ok {
		return
	}
	id := r.PathValue("id")
	cl := modify(w, r, func() (*storage.Client, error) { return h.m.GetClient(r.Context(), id) },
		func(c *storage.Client) *int64 { return &c.Revision },
		func(c *storage.Client) bool { return decodeInto(w, body, c) },
		func(c *storage.Client) error { return h.m.UpdateClient(r.Context(), c) })
	if cl != nil {
		writeRecord(w, http.StatusOK, cl.Revision, viewClient(cl))
	}
}

func (h *restAPI) deleteClient(w http.ResponseWriter, r *http.Request) {
	deleted(w, h.m.DeleteClient(r.Context(), r.PathValue("id")))
}

// rotateSecret gives the client a new secret, answered once.
func (h *restAPI) rotateSecret(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	secret, err := h.m.RotateClientSecret(r.Context(), id)
	if err != nil {
		fail(w, err)
		return
	}
	cl, err := h.m.GetClient(r.Context(), id)
	if err != nil {
		fail(w, err)
		return
	}
	v := viewClient(cl).(clientView)
	v.Secret = secret
	writeRecord(w, http.StatusOK, cl.Revision, v)
}

// deleted answers a delete: 204, or the error. A record already gone is
// 404 (its cascades ran again).
func deleted(w http.ResponseWriter, err error) {
	if err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiView is an API as the REST API shows and takes it: token_lifetime in
// seconds, as Auth0's resource servers.
type apiView struct {
	*storage.API
	TokenLifetime int64 `json:"token_lifetime,omitempty"`
}

// viewAPI copies the API for an answer.
func viewAPI(a *storage.API) any {
	return &apiView{API: cloneAPI(a), TokenLifetime: int64(a.TokenLifetime / time.Second)}
}

// apiReadOnly are the API fields no request sets.
var apiReadOnly = []string{"revision", "managed"}

// decodeAPI decodes body onto a, token_lifetime in seconds. A lifetime out
// of range is kept out of range (not wrapped), for validateAPI to refuse.
func decodeAPI(w http.ResponseWriter, body []byte, a *storage.API) bool {
	v := &apiView{API: a, TokenLifetime: int64(a.TokenLifetime / time.Second)}
	if !decodeInto(w, body, v) {
		return false
	}
	if v.TokenLifetime < 0 || v.TokenLifetime > int64(MaxTokenLifetime/time.Second) {
		a.TokenLifetime = -1
	} else {
		a.TokenLifetime = time.Duration(v.TokenLifetime) * time.Second
	}
	return true
}

func (h *restAPI) listAPIs(w http.ResponseWriter, r *http.Request) {
	q, ok := page(w, r)
	if !ok {
		return
	}
	p, err := h.m.ListAPIs(r.Context(), q)
	if err != nil {
		fail(w, err)
		return
	}
	writePage(w, "resource_servers", p, viewAPI)
}

func (h *restAPI) createAPI(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, apiReadOnly...)
	if !ok {
		return
	}
	a := &storage.API{}
	if !decodeAPI(w, body, a) {
		return
	}
	if err := h.m.CreateAPI(r.Context(), a); err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Location", "/api/v2/resource-servers/"+url.PathEscape(a.Identifier))
	writeRecord(w, http.StatusCreated, a.Revision, viewAPI(a))
}

func (h *restAPI) getAPI(w http.ResponseWriter, r *http.Request) {
	a, err := h.m.GetAPI(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeRecord(w, http.StatusOK, a.Revision, viewAPI(a))
}

func (h *restAPI) updateAPI(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, append(apiReadOnly, "identifier")...)
	if !ok {
		return
	}
	id := r.PathValue("id")
	a := modify(w, r, func() (*storage.API, error) { return h.m.GetAPI(r.Context(), id) },
		func(a *storage.API) *int64 { return &a.Revision },
		func(a *storage.API) bool { return decodeAPI(w, body, a) },
		func(a *storage.API) error { return h.m.UpdateAPI(r.Context(), a) })
	if a != nil {
		writeRecord(w, http.StatusOK, a.Revision, viewAPI(a))
	}
}

func (h *restAPI) deleteAPI(w http.ResponseWriter, r *http.Request) {
	deleted(w, h.m.DeleteAPI(r.Context(), r.PathValue("id")))
}
