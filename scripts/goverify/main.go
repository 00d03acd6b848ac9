// goverify checks a running DeFarm log with Go's own verifiers (golang.org/x/mod/sumdb/note and
// sumdb/tlog), code nobody at DeFarm wrote:
//
//   - the latest checkpoint and every kept checkpoint open under the pinned verifier key;
//   - the tiles, read through tlog.TileHashReader (which checks each tile against the signed
//     root), hash to that root;
//   - every entry bundle's entries hash to the level-0 tile hashes;
//   - consecutive kept checkpoints are consistent (the log's proof, checked by tlog.CheckTree);
//   - for sampled leaves, the log's inclusion proof equals tlog.ProveRecord's and passes
//     tlog.CheckRecord;
//   - each proof bundle named on the command line: every integrated fact's entry opens its
//     commitment and its inclusion proof leads to its signed checkpoint.
//
// Usage: goverify -url http://127.0.0.1:3901 [bundle.json ...]
// Build (Debian's golang-go and golang-golang-x-mod-dev, GOPATH mode):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o goverify ./scripts/goverify
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8

var (
	base   = flag.String("url", "", "the service's base URL")
	client = &http.Client{Timeout: 30 * time.Second}
)

func main() {
	flag.Parse()
	if *base == "" {
		fail("usage: goverify -url BASE [bundle.json ...]")
	}
	vkey := strings.TrimSpace(string(get("/log/key")))
	verifier, err := note.NewVerifier(vkey)
	check(err, "the verifier key %q", vkey)
	verifiers := note.VerifierList(verifier)

	latest := openCheckpoint(get("/log/checkpoint"), verifiers, "the latest checkpoint")
	fmt.Printf("checkpoint: %s, %d entries, key %s\n", latest.origin, latest.size, verifier.Name())

	if latest.size == 0 {
		fail("the log is empty: write something first")
	}
	tiles := tlog.TileHashReader(tlog.Tree{N: latest.size, Hash: latest.root}, tileReader{checked: map[tlog.Tile][]byte{}})
	root, err := tlog.TreeHash(latest.size, tiles)
	check(err, "reading the tree through its tiles")
	if root != latest.root {
		fail("the tiles hash to %s, the checkpoint says %s", root, latest.root)
	}
	fmt.Printf("tiles: hash to the signed root\n")

	checkEntryBundles(latest.size, tiles)
	checkKeptCheckpoints(latest, verifiers)
	checkInclusionProofs(latest, tiles)

	for _, path := range flag.Args() {
		checkBundle(path, vkey, verifiers, latest.origin)
	}
	fmt.Println("goverify: all checks passed")
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// openCheckpoint verifies a signed note with sumdb/note and parses its C2SP tlog-checkpoint
// body: origin, size and base64 root, one per line.
func openCheckpoint(msg []byte, verifiers note.Verifiers, what string) checkpoint {
	n, err := note.Open(msg, verifiers)
	check(err, "opening %s", what)
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		fail("%s: body %q is not origin, size, root", what, n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	check(err, "%s: size %q", what, lines[1])
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("%s: root %q", what, lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	return checkpoint{origin: lines[0], size: size, root: root}
}

// tileReader fetches tiles from the C2SP path (Go names them tile/8/L/N, C2SP drops the
// height) and keeps the ones tlog has checked against the signed root.
type tileReader struct{ checked map[tlog.Tile][]byte }

func (tileReader) Height() int { return tileHeight }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		if cached, ok := r.checked[t]; ok {
			data[i] = cached
		} else {
			data[i] = get(c2spPath(t.Path()))
		}
	}
	return data, nil
}

func (r tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {
	for i, t := range tiles {
		r.checked[t] = data[i]
	}
}

func c2spPath(goPath string) string {
	return "/log/tile/" + strings.TrimPrefix(goPath, fmt.Sprintf("tile/%d/", tileHeight))
}

// checkEntryBundles reads every entry bundle (each entry a 2-byte big-endian length and its
// bytes) and checks each entry's RFC 9162 leaf hash against the level-0 hashes.
func checkEntryBundles(size int64, tiles tlog.HashReader) {
	for start := int64(0); start < size; start += 1 << tileHeight {
		width := size - start
		if width > 1<<tileHeight {
			width = 1 << tileHeight
		}
		// Go names entry bundles "data" tiles (level -1); C2SP names them "entries".
		data := tlog.Tile{H: tileHeight, L: -1, N: start >> tileHeight, W: int(width)}
		bundle := get(c2spPath(strings.Replace(data.Path(), "/data/", "/entries/", 1)))
		indexes := make([]int64, width)
		for i := range indexes {
			indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		leaves, err := tiles.ReadHashes(indexes)
		check(err, "the leaf hashes from %d", start)
		for i, leaf := range leaves {
			if len(bundle) < 2 {
				fail("entry bundle at %d ends before entry %d", start, start+int64(i))
			}
			n := int(binary.BigEndian.Uint16(bundle))
			if len(bundle) < 2+n {
				fail("entry bundle at %d: entry %d is cut short", start, start+int64(i))
			}
			if tlog.RecordHash(bundle[2:2+n]) != leaf {
				fail("entry %d does not hash to its leaf", start+int64(i))
			}
			bundle = bundle[2+n:]
		}
		if len(bundle) != 0 {
			fail("entry bundle at %d has %d bytes past its %d entries", start, len(bundle), width)
		}
	}
	fmt.Printf("entry bundles: all %d entries hash to their leaves\n", size)
}

type keptCheckpoint struct {
	TreeSize   int64  `json:"tree_size"`
	Checkpoint string `json:"checkpoint"`
}

// checkKeptCheckpoints opens every kept checkpoint (up to 2,000) and checks each consecutive
// pair with the log's consistency proof. Sizes must only grow.
func checkKeptCheckpoints(latest checkpoint, verifiers note.Verifiers) {
	var kept []checkpoint
	cursor := ""
	for len(kept) < 2000 {
		var page struct {
			Data       []keptCheckpoint `json:"data"`
			NextCursor *string          `json:"next_cursor"`
		}
		getJSON("/log/checkpoints?limit=500"+cursor, &page)
		for _, c := range page.Data {
			opened := openCheckpoint([]byte(c.Checkpoint), verifiers, "kept checkpoint "+strconv.FormatInt(c.TreeSize, 10))
			if opened.size != c.TreeSize {
				fail("kept checkpoint says %d, its note %d", c.TreeSize, opened.size)
			}
			kept = append(kept, opened)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *page.NextCursor
	}
	if len(kept) == 0 || kept[0] != latest {
		fail("the newest kept checkpoint is not the latest checkpoint")
	}
	for i := 1; i < len(kept); i++ {
		newer, older := kept[i-1], kept[i]
		if older.size >= newer.size {
			fail("kept checkpoints do not grow: %d then %d", older.size, newer.size)
		}
		if older.size == 0 {
			continue
		}
		var proof struct {
			Hashes []string `json:"hashes"`
		}
		getJSON(fmt.Sprintf("/log/proof/consistency?from=%d&to=%d", older.size, newer.size), &proof)
		err := tlog.CheckTree(hashes(proof.Hashes), newer.size, newer.root, older.size, older.root)
		check(err, "consistency of %d with %d", older.size, newer.size)
	}
	fmt.Printf("kept checkpoints: %d signed, each consistent with the next\n", len(kept))
}

// checkInclusionProofs compares the log's audit paths with the ones Go builds from the tiles,
// for the first, last and some leaves between.
func checkInclusionProofs(latest checkpoint, tiles tlog.HashReader) {
	if latest.size == 0 {
		return
	}
	checked := 0
	for _, index := range sample(latest.size) {
		var proof struct {
			Hashes []string `json:"hashes"`
		}
		getJSON(fmt.Sprintf("/log/proof/inclusion?index=%d&tree_size=%d", index, latest.size), &proof)
		served := hashes(proof.Hashes)
		built, err := tlog.ProveRecord(latest.size, index, tiles)
		check(err, "tlog.ProveRecord(%d, %d)", latest.size, index)
		if len(built) != len(served) {
			fail("inclusion of %d: the log serves %d hashes, Go builds %d", index, len(served), len(built))
		}
		for i := range built {
			if built[i] != served[i] {
				fail("inclusion of %d: hash %d differs from Go's", index, i)
			}
		}
		leaf, err := tiles.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
		check(err, "the leaf hash of %d", index)
		check(tlog.CheckRecord(served, latest.size, latest.root, index, leaf[0]), "inclusion of %d", index)
		checked++
	}
	fmt.Printf("inclusion proofs: %d served proofs equal Go's and verify\n", checked)
}

// sample picks about 64 leaf indexes spread over the tree, the first and last among them.
func sample(size int64) []int64 {
	var out []int64
	for i := int64(0); i < size; i += size/63 + 1 {
		out = append(out, i)
	}
	if out[len(out)-1] != size-1 {
		out = append(out, size-1)
	}
	return out
}

// factLog is where a bundle says a fact stands in the log.
type factLog struct {
	Status         string   `json:"status"`
	LeafIndex      int64    `json:"leaf_index"`
	Salt           string   `json:"salt"`
	Commitment     string   `json:"commitment"`
	Entry          string   `json:"entry"`
	TreeSize       int64    `json:"tree_size"`
	InclusionProof []string `json:"inclusion_proof"`
	Checkpoint     string   `json:"checkpoint"`
}

type bundle struct {
	Dfid        string `json:"dfid"`
	LogOrigin   string `json:"log_origin"`
	VerifierKey string `json:"verifier_key"`
	Checkpoint  string `json:"checkpoint"`
	Versions    []struct {
		Version        int64   `json:"version"`
		DocumentSha256 string  `json:"document_sha256"`
		Log            factLog `json:"log"`
	} `json:"versions"`
	Events []struct {
		Event struct {
			EventID     string `json:"event_id"`
			ContentHash string `json:"content_hash"`
		} `json:"event"`
		Log factLog `json:"log"`
	} `json:"events"`
	Receipts []struct {
		Receipt struct {
			ReceiptID string  `json:"receipt_id"`
			Sha256    string  `json:"sha256"`
			Log       factLog `json:"log"`
		} `json:"receipt"`
	} `json:"receipts"`
}

// Entry kinds (VERIFY.md, "The log").
const (
	kindEvent   = 1
	kindVersion = 2
	kindReceipt = 3
)

func checkBundle(path, vkey string, verifiers note.Verifiers, origin string) {
	raw, err := os.ReadFile(path)
	check(err, "reading %s", path)
	var b bundle
	check(json.Unmarshal(raw, &b), "parsing %s", path)
	if b.VerifierKey != vkey || b.LogOrigin != origin {
		fail("%s: names key %q and origin %q, the log serves %q and %q", path, b.VerifierKey, b.LogOrigin, vkey, origin)
	}
	if b.Checkpoint != "" {
		openCheckpoint([]byte(b.Checkpoint), verifiers, path+": its checkpoint")
	}
	facts := 0
	for _, v := range b.Versions {
		facts += checkFact(fmt.Sprintf("%s version %d", b.Dfid, v.Version), kindVersion, v.DocumentSha256, v.Log, verifiers)
	}
	for _, e := range b.Events {
		facts += checkFact("event "+e.Event.EventID, kindEvent, e.Event.ContentHash, e.Log, verifiers)
	}
	for _, r := range b.Receipts {
		facts += checkFact("receipt "+r.Receipt.ReceiptID, kindReceipt, r.Receipt.Sha256, r.Receipt.Log, verifiers)
	}
	if facts == 0 {
		fail("%s: no integrated fact to check", path)
	}
	fmt.Printf("bundle %s: %d facts included under signed checkpoints\n", b.Dfid, facts)
}

// checkFact checks one integrated fact: SHA-256(salt || digest) is the commitment, the entry
// carries the kind and commitment, and the entry's leaf is in the tree its checkpoint signs.
// A pending fact counts zero.
func checkFact(what string, kind byte, digestHex string, log factLog, verifiers note.Verifiers) int {
	if log.Status != "integrated" {
		return 0
	}
	digest := decodeHex(digestHex, what+": digest")
	salt := decodeHex(log.Salt, what+": salt")
	commitment := sha256.Sum256(append(salt, digest...))
	if hex.EncodeToString(commitment[:]) != log.Commitment {
		fail("%s: SHA-256(salt || digest) is not its commitment", what)
	}
	entry, err := base64.StdEncoding.DecodeString(log.Entry)
	check(err, "%s: entry", what)
	if len(entry) != 41 || entry[0] != kind || !bytes.Equal(entry[1:33], commitment[:]) {
		fail("%s: the entry does not carry kind %d and the commitment", what, kind)
	}
	signed := openCheckpoint([]byte(log.Checkpoint), verifiers, what+": checkpoint")
	if signed.size != log.TreeSize {
		fail("%s: proof for %d entries, checkpoint of %d", what, log.TreeSize, signed.size)
	}
	err = tlog.CheckRecord(hashes(log.InclusionProof), signed.size, signed.root, log.LeafIndex, tlog.RecordHash(entry))
	check(err, "%s: inclusion at %d", what, log.LeafIndex)
	return 1
}

func hashes(encoded []string) []tlog.Hash {
	out := make([]tlog.Hash, len(encoded))
	for i, s := range encoded {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) != tlog.HashSize {
			fail("proof hash %q", s)
		}
		copy(out[i][:], raw)
	}
	return out
}

func decodeHex(s, what string) []byte {
	raw, err := hex.DecodeString(s)
	check(err, "%s %q", what, s)
	return raw
}

func get(path string) []byte {
	resp, err := client.Get(*base + path)
	check(err, "GET %s", path)
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	check(err, "GET %s: body", path)
	if resp.StatusCode != http.StatusOK {
		fail("GET %s: %s: %s", path, resp.Status, body)
	}
	return body
}

func getJSON(path string, into interface{}) {
	check(json.Unmarshal(get(path), into), "GET %s: JSON", path)
}

func check(err error, format string, args ...interface{}) {
	if err != nil {
		fail("%s: %v", fmt.Sprintf(format, args...), err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "goverify: "+format+"\n", args...)
	os.Exit(1)
}
