package main

import "errors"

// runHermes indexes the corpus with Hermes.
func runHermes(dir string, c *corpus, positions bool, workers int, memory int64) (int, error) {
	return 0, errors.New("the Hermes writer is not available in this build yet (run with --engines bleve)")
}
