// LuceneIndex indexes the benchmark corpus with Lucene 4.10, the way the Go
// bench program indexes it with Hermes and bleve, and prints one line of JSON
// with what it did. The bench program compiles it on the fly when javac and
// the Lucene jars are present (Debian: default-jdk-headless and
// liblucene4.10-java) and runs it in a child JVM of its own.
//
//   java -cp CLASSES:lucene-core.jar:lucene-analyzers-common.jar LuceneIndex \
//        INPUT DIR LIMIT THREADS RAM_BUFFER_MB POSITIONS
//
// Fields as in Hermes's bench schema: "id" a stored, unanalyzed key; "title"
// and "text" stored and analyzed with StandardAnalyzer, with frequencies and
// without positions (DOCS_AND_FREQS) unless POSITIONS is true. BM25 is set
// explicitly (4.10 defaults to the classic TF-IDF). THREADS threads take
// batches of lines from one reader, decode them and add them; one commit at
// the end, then close, which waits for the running merges (reported apart,
// as merge_seconds, like Hermes's wait for its merges).
import java.io.BufferedReader;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;

import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.FieldInfo.IndexOptions;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Version;

public final class LuceneIndex {
    private final BufferedReader in;
    private final long limit;
    private long read; // lines handed out, guarded by this
    private final AtomicLong docs = new AtomicLong();
    private final AtomicLong textBytes = new AtomicLong();

    private LuceneIndex(BufferedReader in, long limit) {
        this.in = in;
        this.limit = limit;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: LuceneIndex INPUT DIR LIMIT THREADS RAM_BUFFER_MB POSITIONS");
            System.exit(2);
        }
        long start = System.nanoTime();
        String input = args[0];
        File dir = new File(args[1]);
        long limit = Long.parseLong(args[2]);
        int threads = Integer.parseInt(args[3]);
        double ramMB = Double.parseDouble(args[4]);
        boolean positions = Boolean.parseBoolean(args[5]);

        InputStream raw = new FileInputStream(input);
        if (input.endsWith(".gz")) {
            raw = new GZIPInputStream(raw, 1 << 16);
        }
        BufferedReader br = new BufferedReader(new InputStreamReader(raw, StandardCharsets.UTF_8), 1 << 20);

        IndexWriterConfig cfg = new IndexWriterConfig(Version.LATEST, new StandardAnalyzer());
        cfg.setSimilarity(new BM25Similarity());
        cfg.setRAMBufferSizeMB(ramMB);
        cfg.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
        IndexWriter w = new IndexWriter(FSDirectory.open(dir), cfg);

        FieldType textType = new FieldType(TextField.TYPE_STORED);
        textType.setIndexOptions(positions ? IndexOptions.DOCS_AND_FREQS_AND_POSITIONS : IndexOptions.DOCS_AND_FREQS);
        textType.freeze();

        LuceneIndex job = new LuceneIndex(br, limit);
        List<Thread> workers = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try {
                    job.index(w, textType);
                } catch (Throwable e) {
                    synchronized (failure) {
                        if (failure[0] == null) {
                            failure[0] = e;
                        }
                    }
                }
            });
            t.start();
            workers.add(t);
        }
        for (Thread t : workers) {
            t.join();
        }
        if (failure[0] != null) {
            w.rollback();
            throw new RuntimeException(failure[0]);
        }
        w.commit();
        long committed = System.nanoTime();
        w.close(); // waits for the running merges
        br.close();
        long end = System.nanoTime();
        System.out.printf("{\"engine\":\"lucene\",\"positions\":%b,\"docs\":%d,\"seconds\":%.4f,\"merge_seconds\":%.4f,\"text_bytes\":%d}%n",
                positions, job.docs.get(), (end - start) / 1e9, (end - committed) / 1e9, job.textBytes.get());
    }

    // nextBatch fills batch with up to 256 lines; it returns false at the end.
    private synchronized boolean nextBatch(List<String> batch) throws IOException {
        batch.clear();
        while (batch.size() < 256 && (limit <= 0 || read < limit)) {
            String line = in.readLine();
            if (line == null) {
                break;
            }
            if (line.isBlank()) {
                continue;
            }
            batch.add(line);
            read++;
        }
        return !batch.isEmpty();
    }

    // index decodes and adds batches of lines until the input ends. Each
    // thread reuses one Document and its Fields, Lucene's advice for speed.
    private void index(IndexWriter w, FieldType textType) throws IOException {
        Field id = new StringField("id", "", Field.Store.YES);
        Field title = new Field("title", "", textType);
        Field text = new Field("text", "", textType);
        Document doc = new Document();
        doc.add(id);
        doc.add(title);
        doc.add(text);
        List<String> batch = new ArrayList<>(256);
        String[] values = new String[3];
        long bytes = 0;
        while (nextBatch(batch)) {
            for (String line : batch) {
                new JsonLine(line).object(values);
                if (values[0] == null) {
                    throw new IOException("a line without an \"id\": " + line.substring(0, Math.min(80, line.length())));
                }
                id.setStringValue(values[0]);
                title.setStringValue(values[1] == null ? "" : values[1]);
                text.setStringValue(values[2] == null ? "" : values[2]);
                w.addDocument(doc);
                bytes += utf8Length(values[2]);
            }
            docs.addAndGet(batch.size());
        }
        textBytes.addAndGet(bytes);
    }

    private static long utf8Length(String s) {
        if (s == null) {
            return 0;
        }
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isSurrogate(c)) {
                n += 2; // a pair is 4 bytes
            } else {
                n += 3;
            }
        }
        return n;
    }

    // JsonLine reads one JSON object, keeping the string values of "id",
    // "title" and "text" and skipping every other member.
    private static final class JsonLine {
        private final String s;
        private int i;
        private final StringBuilder sb = new StringBuilder();

        JsonLine(String s) {
            this.s = s;
        }

        void object(String[] values) throws IOException {
            values[0] = values[1] = values[2] = null;
            space();
            expect('{');
            space();
            if (peek() == '}') {
                return;
            }
            while (true) {
                space();
                String key = string();
                space();
                expect(':');
                space();
                int slot = key.equals("id") ? 0 : key.equals("title") ? 1 : key.equals("text") ? 2 : -1;
                if (slot >= 0 && peek() == '"') {
                    values[slot] = string();
                } else {
                    skip();
                }
                space();
                char c = next();
                if (c == '}') {
                    return;
                }
                if (c != ',') {
                    throw error("expected , or }");
                }
            }
        }

        private String string() throws IOException {
            expect('"');
            int start = i;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == '"') {
                    return s.substring(start, i++);
                }
                if (c == '\\') {
                    break;
                }
                i++;
            }
            sb.setLength(0);
            sb.append(s, start, i);
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case 'n': sb.append('\n'); break;
                    case 't': sb.append('\t'); break;
                    case 'r': sb.append('\r'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'u':
                        if (i + 4 > s.length()) {
                            throw error("short \\u escape");
                        }
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    default: sb.append(e); // " \ /
                }
            }
            throw error("unterminated string");
        }

        // skip passes over one value of any kind.
        private void skip() throws IOException {
            char c = peek();
            if (c == '"') {
                string();
                return;
            }
            if (c == '{' || c == '[') {
                int depth = 0;
                while (i < s.length()) {
                    c = s.charAt(i);
                    if (c == '"') {
                        string();
                        continue;
                    }
                    i++;
                    if (c == '{' || c == '[') {
                        depth++;
                    } else if ((c == '}' || c == ']') && --depth == 0) {
                        return;
                    }
                }
                throw error("unterminated value");
            }
            while (i < s.length() && ",}] \t".indexOf(s.charAt(i)) < 0) {
                i++; // a number, true, false or null
            }
        }

        private void space() {
            while (i < s.length() && s.charAt(i) <= ' ') {
                i++;
            }
        }

        private char peek() throws IOException {
            if (i >= s.length()) {
                throw error("unexpected end of line");
            }
            return s.charAt(i);
        }

        private char next() throws IOException {
            char c = peek();
            i++;
            return c;
        }

        private void expect(char c) throws IOException {
            if (next() != c) {
                throw error("expected " + c);
            }
        }

        private IOException error(String what) {
            return new IOException("malformed JSON line at offset " + i + ": " + what);
        }
    }
}
