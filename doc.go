// Package hermes is an embeddable, actor-model, concurrent document-indexing
// runtime for Go services.
package hermes
