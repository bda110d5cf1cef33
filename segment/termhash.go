package segment

import (
	"bytes"
	"hash/maphash"
)

// termHash interns term bytes into one arena and maps them to dense ids
// 0, 1, 2, ... (Lucene's BytesRefHash). Compared with a Go map of strings
// it makes no allocation per term and its memory is exactly the sum of a
// few slice capacities, which keeps EstimatedMemoryBytes honest.
type termHash struct {
	seed  maphash.Seed
	slots []uint64 // 0 = empty, else hash<<32 | (id+1); len is a power of 2
	arena []byte   // all term bytes, back to back
	ends  []uint32 // ends[id] is the end of term id in arena; its start is ends[id-1] (0 for id 0)
	mask  uint64
}

func newTermHash() *termHash {
	h := &termHash{seed: maphash.MakeSeed(), slots: make([]uint64, 16)}
	h.mask = uint64(len(h.slots) - 1)
	return h
}

func (h *termHash) len() int { return len(h.ends) }

func (h *termHash) term(id uint32) []byte {
	start := uint32(0)
	if id > 0 {
		start = h.ends[id-1]
	}
	return h.arena[start:h.ends[id]]
}

// add returns the id of term, interning it if new (isNew true). ok is
// false only when the arena would pass 4 GiB.
func (h *termHash) add(term []byte) (id uint32, isNew, ok bool) {
	hv := maphash.Bytes(h.seed, term)
	tag := hv >> 32
	i := hv & h.mask
	for {
		s := h.slots[i]
		if s == 0 {
			break
		}
		if s>>32 == tag {
			id := uint32(s) - 1
			if bytes.Equal(h.term(id), term) {
				return id, false, true
			}
		}
		i = (i + 1) & h.mask
	}
	if uint64(len(h.arena))+uint64(len(term)) > 1<<32-1 {
		return 0, false, false
	}
	id = uint32(len(h.ends))
	h.arena = append(h.arena, term...)
	h.ends = append(h.ends, uint32(len(h.arena)))
	h.slots[i] = tag<<32 | uint64(id+1)
	if uint64(len(h.ends))*2 > uint64(len(h.slots)) {
		h.grow()
	}
	return id, true, true
}

func (h *termHash) grow() {
	old := h.slots
	h.slots = make([]uint64, len(old)*2)
	h.mask = uint64(len(h.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		id := uint32(s) - 1
		i := maphash.Bytes(h.seed, h.term(id)) & h.mask
		for h.slots[i] != 0 {
			i = (i + 1) & h.mask
		}
		h.slots[i] = s
	}
}

func (h *termHash) memBytes() int64 {
	return int64(cap(h.slots))*8 + int64(cap(h.arena)) + int64(cap(h.ends))*4
}
