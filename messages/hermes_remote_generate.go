package messages

// hermes_remote.proto is generated on its own, so the remote protocol and the
// writer's protocol (messages.proto) can change independently.
//go:generate sh -c "protoc -I . -I $(go list -m -f '{{.Dir}}' github.com/asynkron/protoactor-go)/actor --go_out=. --go_opt=paths=source_relative --go_opt=Mactor.proto=github.com/asynkron/protoactor-go/actor hermes_remote.proto"
