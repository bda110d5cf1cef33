// Package messages holds every message that crosses an actor boundary in the
// Hermes writer, as protobuf, so workers can live on remote nodes.
//
// The Go code is generated and committed; regenerating needs protoc and
// protoc-gen-go (see the go:generate line).
package messages

//go:generate sh -c "protoc -I . -I $(go list -m -f '{{.Dir}}' github.com/asynkron/protoactor-go)/actor --go_out=. --go_opt=paths=source_relative --go_opt=Mactor.proto=github.com/asynkron/protoactor-go/actor messages.proto"
