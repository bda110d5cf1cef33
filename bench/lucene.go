package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// The Lucene engine is a small Java program, lucene/LuceneIndex.java, run in
// a child JVM. It needs javac and java (Debian: default-jdk-headless) and the
// Lucene 4.10 core and analyzers-common jars (Debian: liblucene4.10-java,
// in /usr/share/java). It is compiled on the fly into the run's directory.
const luceneSource = "lucene/LuceneIndex.java"

// lucene is a compiled LuceneIndex and the class path to run it with.
type lucene struct {
	java      string
	classPath string
}

// prepareLucene compiles LuceneIndex.java into dir. It returns an error
// that says what is missing when javac, java or the jars are not found.
func prepareLucene(jarDir, dir string) (*lucene, error) {
	javac, err := exec.LookPath("javac")
	if err != nil {
		return nil, errors.New("javac not found (Debian: apt-get install default-jdk-headless)")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, errors.New("java not found (Debian: apt-get install default-jdk-headless)")
	}
	var jars []string
	for _, name := range []string{"lucene-core", "lucene-analyzers-common"} {
		jar, err := findJar(jarDir, name)
		if err != nil {
			return nil, err
		}
		jars = append(jars, jar)
	}
	src, err := filepath.Abs(luceneSource)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("%w (run from the bench directory)", err)
	}
	classes := filepath.Join(dir, "lucene-classes")
	if err := os.MkdirAll(classes, 0o755); err != nil {
		return nil, err
	}
	cp := strings.Join(jars, string(os.PathListSeparator))
	out, err := exec.Command(javac, "-nowarn", "-d", classes, "-cp", cp, src).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("javac %s: %v\n%s", luceneSource, err, out)
	}
	return &lucene{java: java, classPath: classes + string(os.PathListSeparator) + cp}, nil
}

// findJar finds NAME-4.10*.jar (or NAME.jar) in dir.
func findJar(dir, name string) (string, error) {
	for _, pattern := range []string{name + "-4.10*.jar", name + ".jar"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(m) > 0 {
			return m[len(m)-1], nil
		}
	}
	return "", fmt.Errorf("%s 4.10 jar not found in %s (Debian: apt-get install liblucene4.10-java, or pass --lucene-jars DIR)", name, dir)
}

// command is the child process that indexes the corpus into dir.
func (l *lucene) command(input, dir string, limit, threads int, memory int64, positions bool) *exec.Cmd {
	return exec.Command(l.java, "-cp", l.classPath, "LuceneIndex", input, dir, strconv.Itoa(limit),
		strconv.Itoa(threads), strconv.FormatFloat(float64(memory)/(1<<20), 'f', -1, 64), strconv.FormatBool(positions))
}
