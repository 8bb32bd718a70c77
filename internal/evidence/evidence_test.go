package evidence

import (
	"context"
	"strings"
	"testing"
)

func TestFolderIsContentAddressed(t *testing.T) {
	f := Folder{Dir: t.TempDir()}
	body := []byte("<html>Loker admin online</html>")
	loc1, err := f.Put(context.Background(), body, "text/html")
	if err != nil {
		t.Fatal(err)
	}
	loc2, err := f.Put(context.Background(), body, "text/html")
	if err != nil || loc1 != loc2 || !strings.Contains(loc1, Name(body)) {
		t.Fatalf("locations %q %q err %v", loc1, loc2, err)
	}
	hash := strings.TrimPrefix(Name(body), "sha256/")
	got, err := f.Get(context.Background(), hash)
	if err != nil || string(got) != string(body) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if _, err := f.Get(context.Background(), "../../etc/passwd"); err == nil {
		t.Fatal("Get accepted a path")
	}
}
