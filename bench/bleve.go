package main

import (
	"errors"
	"io"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
)

// bleveBatchSize is the number of documents per bleve batch: batches are
// bleve's fastest way in, and ~1,000 is where its throughput levels off.
const bleveBatchSize = 1000

// bleveMapping mirrors the Hermes schema of the benchmark: id a stored
// keyword, title and text stored and analyzed with the standard analyzer
// (Unicode word segmentation, lower case, English stop words; the closest
// to Hermes' "simple" tokenizer). Term vectors, bleve's positions, follow
// the positions flag. No _all field and no doc values, which Hermes does
// not build for text either.
func bleveMapping(positions bool) mapping.IndexMapping {
	id := bleve.NewKeywordFieldMapping()
	id.Analyzer = keyword.Name
	id.IncludeInAll = false
	id.IncludeTermVectors = false
	id.DocValues = false

	text := func() *mapping.FieldMapping {
		m := bleve.NewTextFieldMapping()
		m.Analyzer = standard.Name
		m.Store = true
		m.IncludeInAll = false
		m.IncludeTermVectors = positions
		m.DocValues = false
		return m
	}

	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt("id", id)
	dm.AddFieldMappingsAt("title", text())
	dm.AddFieldMappingsAt("text", text())

	im := bleve.NewIndexMapping()
	im.DefaultMapping = dm
	im.DefaultAnalyzer = standard.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im
}

// runBleve indexes the corpus into a new scorch index in dir, in batches.
// Each batch returns once it is persisted (bleve's default, safe mode), so
// the index is complete on disk when runBleve returns.
func runBleve(dir string, c *corpus, positions bool) (int, error) {
	idx, err := bleve.NewUsing(dir, bleveMapping(positions), scorch.Name, scorch.Name, nil)
	if err != nil {
		return 0, err
	}
	n, err := bleveIndex(idx, c)
	return n, errors.Join(err, idx.Close())
}

func bleveIndex(idx bleve.Index, c *corpus) (int, error) {
	n := 0
	batch := idx.NewBatch()
	for {
		var d doc
		err := c.Next(&d)
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		if err := batch.Index(d.ID, &d); err != nil {
			return n, err
		}
		n++
		if batch.Size() >= bleveBatchSize {
			if err := idx.Batch(batch); err != nil {
				return n, err
			}
			batch.Reset()
			progress(n)
		}
	}
	if batch.Size() > 0 {
		if err := idx.Batch(batch); err != nil {
			return n, err
		}
	}
	return n, nil
}
