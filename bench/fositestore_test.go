package bench

import "github.com/ory/fosite/storage"

// storageMemory is fosite's own memory store.
type storageMemory = storage.MemoryStore

func newStorageMemory() *storageMemory { return storage.NewMemoryStore() }
