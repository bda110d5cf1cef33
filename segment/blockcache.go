package segment

import (
	"container/list"
	"sync"
)

// BlockCache keeps recently read stored-field blocks decompressed, least
// recently used first out, within a bound on their total size. Readers of
// any number of segments may share one; it is safe for concurrent use. A
// nil *BlockCache caches nothing.
type BlockCache struct {
	maxBytes int64

	mu     sync.Mutex
	bytes  int64
	lru    list.List // of *cachedBlock, most recently used at the front
	blocks map[blockKey]*list.Element
}

type blockKey struct {
	seg   ID
	block int
}

type cachedBlock struct {
	key blockKey
	raw []byte // immutable once cached
}

// NewBlockCache returns a cache holding up to maxBytes of decompressed
// blocks (a block larger than that is not cached).
func NewBlockCache(maxBytes int64) *BlockCache {
	return &BlockCache{maxBytes: maxBytes, blocks: make(map[blockKey]*list.Element)}
}

// get returns the block of seg, loading it with load on a miss. Two
// goroutines missing the same block both load it; the block is immutable,
// so either copy serves.
func (c *BlockCache) get(seg ID, block int, load func() ([]byte, error)) ([]byte, error) {
	if c == nil {
		return load()
	}
	key := blockKey{seg, block}
	c.mu.Lock()
	if e, ok := c.blocks[key]; ok {
		c.lru.MoveToFront(e)
		raw := e.Value.(*cachedBlock).raw
		c.mu.Unlock()
		return raw, nil
	}
	c.mu.Unlock()
	raw, err := load()
	if err != nil || int64(cap(raw)) > c.maxBytes {
		return raw, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.blocks[key]; !ok {
		c.blocks[key] = c.lru.PushFront(&cachedBlock{key: key, raw: raw})
		c.bytes += int64(cap(raw))
		for c.bytes > c.maxBytes {
			old := c.lru.Remove(c.lru.Back()).(*cachedBlock)
			delete(c.blocks, old.key)
			c.bytes -= int64(cap(old.raw))
		}
	}
	return raw, nil
}

// Bytes returns the size of the blocks cached now.
func (c *BlockCache) Bytes() int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}
