package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/blevesearch/bleve/v2"
	bquery "github.com/blevesearch/bleve/v2/search/query"
	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// searchTask is one query of a task family, as hermes bench search
// --write-tasks writes them.
type searchTask struct {
	Family string   `json:"family"`
	Kind   string   `json:"kind"` // term, and, or, phrase, prefix
	Field  string   `json:"field"`
	Terms  []string `json:"terms"`
}

// hermesQuery is the task in Hermes' query syntax.
func (t searchTask) hermesQuery() string {
	parts := make([]string, len(t.Terms))
	for i, w := range t.Terms {
		parts[i] = t.Field + ":" + w
		if t.Kind == "and" {
			parts[i] = "+" + parts[i]
		}
	}
	switch t.Kind {
	case "phrase":
		return t.Field + `:"` + strings.Join(t.Terms, " ") + `"`
	case "prefix":
		return t.Field + ":" + t.Terms[0] + "*"
	}
	return strings.Join(parts, " ")
}

// bleveQuery is the task as bleve query objects.
func (t searchTask) bleveQuery() bquery.Query {
	terms := make([]bquery.Query, len(t.Terms))
	for i, w := range t.Terms {
		q := bleve.NewTermQuery(w)
		q.SetField(t.Field)
		terms[i] = q
	}
	switch t.Kind {
	case "and":
		return bleve.NewConjunctionQuery(terms...)
	case "or":
		return bleve.NewDisjunctionQuery(terms...)
	case "phrase":
		return bleve.NewPhraseQuery(t.Terms, t.Field)
	case "prefix":
		q := bleve.NewPrefixQuery(t.Terms[0])
		q.SetField(t.Field)
		return q
	}
	return terms[0]
}

var searchFamilies = []string{"LowTerm", "MedTerm", "HighTerm", "AndHighHigh", "AndHighMed",
	"OrHighHigh", "OrHighMed", "OrHighLow", "Phrase", "Prefix3", "Natural"}

// runSearch runs the same tasks on a Hermes and a bleve index of the same
// corpus, interleaved query by query (the engine that goes first
// alternates by round), and prints p50/p90 latency per family for both.
func runSearch(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hermesDir := fs.String("hermes", "", "the Hermes index `directory` (e.g. from hermes index)")
	bleveDir := fs.String("bleve", "", "the bleve index `directory` (e.g. from go run . --engines bleve --positions on --keep)")
	tasksPath := fs.String("tasks", "", "the tasks `file` from hermes bench search --write-tasks")
	rounds := fs.Int("rounds", 5, "run every query `N` times per engine (the first round warms up and is not counted)")
	k := fs.Int("k", 10, "hits per query")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run . search --hermes DIR --bleve DIR --tasks FILE [--rounds N]\n\n"+
			"Runs the same queries on both indexes, interleaved, top k with each hit's id,\n"+
			"and prints p50 and p90 latency per task family.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *hermesDir == "" || *bleveDir == "" || *tasksPath == "" || *rounds < 2 {
		fs.Usage()
		return fmt.Errorf("--hermes, --bleve and --tasks are required, --rounds at least 2")
	}
	data, err := os.ReadFile(*tasksPath)
	if err != nil {
		return err
	}
	var tasks []searchTask
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var t searchTask
		if err := json.Unmarshal([]byte(line), &t); err != nil {
			return fmt.Errorf("%s: %w", *tasksPath, err)
		}
		tasks = append(tasks, t)
	}

	ctx := context.Background()
	dir, err := storage.NewFS(*hermesDir)
	if err != nil {
		return err
	}
	hr, err := hermes.OpenReader(ctx, dir, hermes.Config{})
	if err != nil {
		return err
	}
	defer hr.Close()
	bi, err := bleve.Open(*bleveDir)
	if err != nil {
		return err
	}
	defer bi.Close()

	hq := make([]query.Query, len(tasks))
	bq := make([]bquery.Query, len(tasks))
	for i, t := range tasks {
		if hq[i], err = hr.ParseQuery(t.hermesQuery()); err != nil {
			return fmt.Errorf("%s %q: %w", t.Family, t.hermesQuery(), err)
		}
		bq[i] = t.bleveQuery()
	}
	runHermes := func(i int) (int, error) {
		hits, err := hr.SearchQuery(ctx, hq[i], *k)
		for _, h := range hits {
			_ = h.Key.Str
		}
		return len(hits), err
	}
	runBleve := func(i int) (int, error) {
		req := bleve.NewSearchRequestOptions(bq[i], *k, 0, false)
		res, err := bi.SearchInContext(ctx, req)
		if err != nil {
			return 0, err
		}
		for _, h := range res.Hits {
			_ = h.ID
		}
		return len(res.Hits), nil
	}
	type engine struct {
		name string
		run  func(int) (int, error)
		lat  map[string][]time.Duration
		hits map[string]int
	}
	engines := []*engine{
		{name: "hermes", run: runHermes, lat: map[string][]time.Duration{}, hits: map[string]int{}},
		{name: "bleve", run: runBleve, lat: map[string][]time.Duration{}, hits: map[string]int{}},
	}
	for round := 0; round < *rounds; round++ {
		for i, t := range tasks {
			for j := range engines {
				e := engines[(j+round)%2] // alternate which engine goes first
				start := time.Now()
				n, err := e.run(i)
				d := time.Since(start)
				if err != nil {
					return fmt.Errorf("%s: %s %q: %w", e.name, t.Family, t.hermesQuery(), err)
				}
				if round > 0 {
					e.lat[t.Family] = append(e.lat[t.Family], d)
				} else {
					e.hits[t.Family] += n
				}
			}
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "task\tqueries\thermes p50 µs\tbleve p50 µs\thermes/bleve\thermes p90 µs\tbleve p90 µs\thermes hits\tbleve hits\t")
	for _, f := range searchFamilies {
		h, b := engines[0].lat[f], engines[1].lat[f]
		if len(h) == 0 {
			continue
		}
		slices.Sort(h)
		slices.Sort(b)
		n := len(h) / (*rounds - 1)
		p50h, p50b := percentile(h, 50), percentile(b, 50)
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", f, n, us(p50h), us(p50b), us(p50h)/us(p50b),
			us(percentile(h, 90)), us(percentile(b, 90)), float64(engines[0].hits[f])/float64(n), float64(engines[1].hits[f])/float64(n))
	}
	return tw.Flush()
}

func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
