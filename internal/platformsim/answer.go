package platformsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// answerLater has the platform's team answer case's notice through the
// platform API, as soon as tangkal lists it (tangkal records a notice
// after the platform's webhook answered). The caller holds mu.
func (s *Sim) answerLater(pid, caseID string, m Mode) {
	if s.api == nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-s.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		rec := Answered{Platform: pid, CaseID: caseID, Answer: m.answer()}
		rec.StatusCode, rec.Error = s.answer(ctx, pid, caseID, m)
		rec.At = s.now()
		s.mu.Lock()
		s.answered = append(s.answered, rec)
		s.saveLocked()
		s.mu.Unlock()
	}()
}

// answer waits for the notice to be listed, then posts the mode's answer.
func (s *Sim) answer(ctx context.Context, pid, caseID string, m Mode) (int, string) {
	tok, err := s.api.Token(pid)
	if err != nil {
		return 0, err.Error()
	}
	client := s.api.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	wait := s.api.Wait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	call := func(method, path string, body any) (int, []byte, error) {
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(s.api.URL, "/")+path, r)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, b, nil
	}
	// The team works from its queue of open notices.
	deadline := time.Now().Add(wait)
	for {
		code, b, err := call(http.MethodGet, "/platform/notices?status=open", nil)
		if err == nil && code == http.StatusOK {
			var list struct {
				Notices []struct {
					Ref string `json:"ref"`
				} `json:"notices"`
			}
			if json.Unmarshal(b, &list) == nil {
				for _, n := range list.Notices {
					if n.Ref == caseID {
						goto listed
					}
				}
			}
		}
		if time.Now().After(deadline) {
			return code, fmt.Sprintf("notice %s not listed after %s", caseID, wait)
		}
		select {
		case <-ctx.Done():
			return 0, "simulator stopped"
		case <-time.After(100 * time.Millisecond):
		}
	}
listed:
	body := map[string]string{"answer": m.answer()}
	switch m {
	case Confirm, FalseConfirm:
		body["removed_at"] = s.now().UTC().Format(time.RFC3339)
	case Ask:
		body["question"] = "Mohon kirimkan bukti tambahan bahwa perekrut ini tidak berizin. / Please send further evidence that this recruiter is unlicensed."
	case Object:
		body["grounds"] = "lawful_content"
		body["text"] = "Pengiklan adalah P3MI berizin; iklan ini sah. / The advertiser is a licensed placement agency; the ad is lawful."
	}
	code, b, err := call(http.MethodPost, "/platform/notices/"+caseID, body)
	if err != nil {
		return 0, err.Error()
	}
	if code != http.StatusOK {
		return code, strings.TrimSpace(string(b))
	}
	return code, ""
}

// Answers returns the answers the platforms posted, oldest first.
func (s *Sim) Answers() []Answered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Answered(nil), s.answered...)
}

// Close stops answers still waiting and waits for them.
func (s *Sim) Close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
}
