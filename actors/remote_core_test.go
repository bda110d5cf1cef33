package actors

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/hermes-search/hermes-go/messages"
)

// runRemote runs the script commands of remote workers:
//
//	shipped worker=N [gen=G] [round=R] [batches=a,b docs=n]: SegmentShipped
//	  (the simulated builder's segment, or the one described)
//	installed segment=sN [error=... [code=ERROR_...]]: the fetch's SegmentInstalled
//	  (an error without a code is ERROR_TRANSFER)
//	node-lost worker=N: the worker's node is lost (workerGone)
func (h *coreHarness) runRemote(t *testing.T, d *datadriven.TestData) (string, bool) {
	worker := int32(intArg(t, d, "worker", 0))
	var ev interface{}
	switch d.Cmd {
	case "shipped":
		seg, batches := h.segment(h.builders[worker])
		if d.HasArg("batches") {
			h.nextSeg++
			seg = &messages.SegmentInfo{Id: fmt.Sprintf("s%d", h.nextSeg), NumDocs: uint32(intArg(t, d, "docs", 1))}
			batches = nil
			for _, s := range strings.Split(strArg(d, "batches", ""), ",") {
				n, _ := strconv.ParseUint(s, 10, 64)
				batches = append(batches, n)
			}
		}
		gen := h.core.workers[worker].generation
		if d.HasArg("gen") {
			gen = uint64(intArg(t, d, "gen", 0))
		}
		m := &messages.SegmentShipped{Worker: worker, Generation: gen, Round: uint64(intArg(t, d, "round", 0)), Batches: batches}
		if seg != nil {
			m.Segment = &messages.ShippedSegment{Id: seg.Id, NumDocs: seg.NumDocs, Files: []*messages.FileDigest{{Name: seg.Id + ".store"}}}
		}
		ev = m
	case "installed":
		m := &messages.SegmentInstalled{Id: strArg(d, "segment", ""), Error: strArg(d, "error", "")}
		if m.Error != "" {
			m.Code = messages.ErrorCode_ERROR_TRANSFER
		}
		if d.HasArg("code") {
			m.Code = messages.ErrorCode(messages.ErrorCode_value[strArg(d, "code", "")])
		}
		ev = m
	case "node-lost":
		ev = workerGone{worker: worker, reason: "node lost"}
	default:
		return "", false
	}
	return h.show(h.core.step(ev)), true
}

// showRemote prints a remote worker's effect, or "" for others.
func showRemote(e effect) string {
	switch e := e.(type) {
	case fetchSegment:
		m := e.shipped
		return fmt.Sprintf("fetch segment %s of worker %d gen=%d round=%d batches=%v\n", m.Segment.Id, m.Worker, m.Generation, m.Round, m.Batches)
	case releaseSegment:
		m := e.shipped
		return fmt.Sprintf("release segment %s of worker %d gen=%d\n", m.Segment.Id, m.Worker, m.Generation)
	}
	return ""
}
