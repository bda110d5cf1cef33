package segment

// Raw returns doc's value in the column's order-preserving u64 form: the
// value itself for u64, v^(1<<63) for i64, and for f64 the bits with the
// sign bit set if positive, all bits flipped if negative. Comparing raw
// values compares the values. ok is false if doc has no value.
func (c *FastColumn) Raw(doc uint32) (uint64, bool) { return c.raw(doc) }

// Span bounds the column's raw values: each is in [min, min+2^width). A
// small width lets a caller count values in an array instead of a map.
func (c *FastColumn) Span() (min uint64, width uint8) { return c.min, c.width }
