package shipping

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/storage"
)

// fileServer serves the files of one host's scratch directory to the
// writer's fetcher, chunk by chunk, and deletes a segment's files when the
// writer releases them. It keeps no state between requests: the fetcher
// asks for each chunk (file, offset, length) and bounds how many are in
// flight, so a slow writer never makes the node buffer.
type fileServer struct {
	dir storage.Directory
	log *slog.Logger
}

// NewFileServer returns the props of a file server over dir, which holds
// the segments remote workers built there.
func NewFileServer(dir storage.Directory, log *slog.Logger) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &fileServer{dir: dir, log: log} })
}

func (s *fileServer) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *messages.ReadChunk:
		reply := s.read(m)
		if m.ReplyTo != nil {
			ctx.Send(m.ReplyTo, reply)
		} else {
			ctx.Respond(reply)
		}
	case *messages.ReleaseSegment:
		res := &messages.SegmentReleased{Id: m.Id}
		if err := s.release(m); err != nil {
			s.log.Warn("release segment", "segment", m.Id, "error", err)
			res.Error = err.Error()
		}
		if ctx.Sender() != nil {
			ctx.Respond(res)
		}
	case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
	default:
		refuse(ctx, s.log, "file server")
	}
}

func (s *fileServer) read(m *messages.ReadChunk) *messages.Chunk {
	c := &messages.Chunk{Tag: m.Tag, File: m.File, Offset: m.Offset}
	if m.Length <= 0 || m.Length > ChunkBytes || m.Offset < 0 {
		c.Error = fmt.Sprintf("bad chunk request: %d bytes at %d (at most %d bytes)", m.Length, m.Offset, ChunkBytes)
		return c
	}
	f, err := s.dir.Open(m.File)
	if err != nil {
		c.Error = err.Error()
		return c
	}
	defer f.Close()
	buf := make([]byte, m.Length)
	n, err := f.ReadAt(buf, m.Offset)
	if err != nil && !errors.Is(err, io.EOF) {
		c.Error = err.Error()
		return c
	}
	c.Data = buf[:n]
	return c
}

// release deletes the named files of segment m.Id. Only that segment's files
// may be named, so a confused writer cannot delete another's.
func (s *fileServer) release(m *messages.ReleaseSegment) error {
	var errs []error
	for _, name := range m.Files {
		if m.Id == "" || !strings.HasPrefix(name, m.Id+".") {
			errs = append(errs, fmt.Errorf("%s is not a file of segment %s", name, m.Id))
			continue
		}
		if err := s.dir.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
