package render

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path"
	"strconv"
	"strings"
)

// LoadGit copies the repository at dir as it is at revision rev into memory,
// from git's object store: the work tree and the index are not touched.
func LoadGit(dir, rev string) (*Tree, error) {
	git := func(args ...string) *exec.Cmd {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		return cmd
	}
	var stderr bytes.Buffer
	ls := git("ls-tree", "-r", "-z", "--full-tree", rev)
	ls.Stderr = &stderr
	listing, err := ls.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-tree %s: %v: %s", rev, err, strings.TrimSpace(stderr.String()))
	}
	type blob struct{ path, sha, mode string }
	var blobs []blob
	byPath := map[string]string{}
	for _, rec := range bytes.Split(listing, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, p, ok := strings.Cut(string(rec), "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 || f[1] != "blob" {
			continue
		}
		blobs = append(blobs, blob{p, f[2], f[0]})
		byPath[p] = f[2]
	}
	cat := git("cat-file", "--batch")
	cat.Stderr = &stderr
	in, err := cat.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cat.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cat.Start(); err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	written := make(chan struct{})
	go func() {
		defer close(written)
		w := bufio.NewWriter(in)
		for _, b := range blobs {
			if _, err := fmt.Fprintln(w, b.sha); err != nil {
				break // git exited (killed below on a read error)
			}
		}
		w.Flush()
		in.Close()
	}()
	ids := make([]string, len(blobs))
	for i, b := range blobs {
		ids[i] = b.sha
	}
	contents, err := readBatch(bufio.NewReader(out), ids)
	if err != nil {
		// Stop git and the writer: neither outlives the call.
		_ = cat.Process.Kill()
		_ = cat.Wait()
		<-written
		return nil, err
	}
	<-written
	if err := cat.Wait(); err != nil {
		return nil, fmt.Errorf("git cat-file: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	t := NewTree(dir + "@" + rev)
	for _, b := range blobs {
		data := contents[b.sha]
		if b.mode == "120000" { // a symbolic link: follow it inside the revision only
			target := path.Clean(path.Join(path.Dir(b.path), string(data)))
			sha, ok := byPath[target]
			if !ok {
				return nil, fmt.Errorf("%s at %s: symbolic link to %s, which is not a file of the repository", b.path, rev, string(data))
			}
			data = contents[sha]
		}
		if err := t.Add(b.path, data); err != nil {
			return nil, fmt.Errorf("%s at %s: %w", b.path, rev, err)
		}
	}
	return t, nil
}

// readBatch reads git cat-file --batch's answer for each blob, by object id.
func readBatch(r *bufio.Reader, ids []string) (map[string][]byte, error) {
	contents := map[string][]byte{}
	for _, id := range ids {
		header, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		f := strings.Fields(header)
		if len(f) != 3 {
			return nil, fmt.Errorf("git cat-file: unexpected %q", header)
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("git cat-file: unexpected %q", header)
		}
		data := make([]byte, size+1) // the object and a newline
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		contents[id] = data[:size]
	}
	return contents, nil
}
