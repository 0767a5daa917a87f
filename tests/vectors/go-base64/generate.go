// Writes stdencoding.json: what Go's base64.StdEncoding.DecodeString (the decoder Bitnami's
// sealed-secrets controller applies to every spec.encryptedData value) accepts and returns.
//
//	cd tests/vectors/go-base64 && go run generate.go > stdencoding.json
//
// Deterministic (fixed seed); the output is committed and append-only.
package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/rand"
	"os"
	"strings"
)

type vector struct {
	Comment string  `json:"comment"`
	Input   string  `json:"input"`
	Valid   bool    `json:"valid"`
	Hex     *string `json:"hex"`
}

func verdict(comment, input string) vector {
	out, err := base64.StdEncoding.DecodeString(input)
	v := vector{Comment: comment, Input: input, Valid: err == nil}
	if err == nil {
		h := hex.EncodeToString(out)
		v.Hex = &h
	}
	return v
}

func wrap(s string, width int, sep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += width {
		end := i + width
		if end > len(s) {
			end = len(s)
		}
		b.WriteString(s[i:end])
		if end < len(s) {
			b.WriteString(sep)
		}
	}
	return b.String()
}

func main() {
	std := base64.StdEncoding
	long := make([]byte, 300)
	for i := range long {
		long[i] = byte(i * 7)
	}
	l := std.EncodeToString(long)
	fixed := [][2]string{
		{"empty", ""},
		{"only newlines", "\n\r\n"},
		{"canonical, no padding", "YWJj"},
		{"canonical, one pad", "YWI="},
		{"canonical, two pads", "YQ=="},
		{"non-zero padding bits, two pads", "YR=="},
		{"non-zero padding bits, one pad", "YWJ="},
		{"wrapped at 76 with LF", wrap(l, 76, "\n")},
		{"wrapped at 64 with CRLF", wrap(l, 64, "\r\n")},
		{"wrapped with CR only", wrap(l, 60, "\r")},
		{"trailing newline", "YWJj\n"},
		{"leading newline", "\nYWJj"},
		{"newline inside a quantum", "YW\nJj"},
		{"newline between the pads", "YQ=\n="},
		{"newlines after the pads", "YQ==\r\n\n"},
		{"space", "YW Jj"},
		{"leading space", " YWJj"},
		{"trailing space", "YWJj "},
		{"tab", "YW\tJj"},
		{"form feed", "YW\fJj"},
		{"vertical tab", "YW\vJj"},
		{"NUL", "YW\x00Jj"},
		{"missing padding (2)", "YQ"},
		{"missing padding (1)", "YWI"},
		{"half the padding", "YQ="},
		{"excess padding", "YQ==="},
		{"excess padding after a full quantum", "YWJj="},
		{"lone pad", "="},
		{"pads only", "===="},
		{"one data char and pads", "Y==="},
		{"data after the padding", "YQ==YWJj"},
		{"two padded quanta", "YQ==YQ=="},
		{"url-safe alphabet", "-_-_"},
		{"non-ascii", "YWJ\u00e9"},
		{"single char", "Y"},
		{"five chars", "YWJjZ"},
	}
	var vectors []vector
	for _, f := range fixed {
		vectors = append(vectors, verdict(f[0], f[1]))
	}
	// Mutations of real encodings: insert one of a few characters at random places.
	rng := rand.New(rand.NewSource(20261202))
	inserts := []string{"\n", "\r", " ", "=", "A", "\t", "\r\n", "-"}
	for n := 0; n < 240; n++ {
		raw := make([]byte, rng.Intn(12))
		rng.Read(raw)
		s := std.EncodeToString(raw)
		if rng.Intn(3) == 0 && strings.HasSuffix(s, "=") {
			// flip a low bit of the last data character: non-canonical trailing bits
			i := strings.Index(s, "=") - 1
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
			s = s[:i] + string(alphabet[strings.IndexByte(alphabet, s[i])^1]) + s[i+1:]
		}
		for k := rng.Intn(3); k > 0; k-- {
			at := rng.Intn(len(s) + 1)
			s = s[:at] + inserts[rng.Intn(len(inserts))] + s[at:]
		}
		if rng.Intn(5) == 0 && len(s) > 0 {
			s = s[:len(s)-1]
		}
		vectors = append(vectors, verdict("mutation", s))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(vectors); err != nil {
		panic(err)
	}
}
