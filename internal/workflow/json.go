package workflow

import (
	"encoding/json"
	"fmt"
)

func unmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode event data: %w", err)
	}
	return nil
}
