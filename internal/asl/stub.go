package asl

import (
	"errors"
	"time"
)

type compiledState struct{}

var errNotImplemented = errors.New("asl: not implemented")

func decode(b []byte) (any, error)               { return nil, errNotImplemented }
func parse(def []byte) (*Definition, error)      { return nil, errNotImplemented }
func (s *State) input(raw, ctx any) (any, error) { return nil, errNotImplemented }
func (s *State) items(eff any) ([]any, error)    { return nil, errNotImplemented }
func (s *State) itemInput(item any, index int, eff, ctx any) (any, error) {
	return nil, errNotImplemented
}
func (s *State) selectResult(result, ctx any) (any, error) { return nil, errNotImplemented }
func (s *State) output(raw, result, ctx any) (any, error)  { return nil, errNotImplemented }
func (s *State) chooseNext(input any) (string, error)      { return "", errNotImplemented }
func (s *State) waitUntil(input any, now time.Time) (time.Time, error) {
	return time.Time{}, errNotImplemented
}
func (s *State) failInfo(input any) (string, string, error) { return "", "", errNotImplemented }
func (s *State) taskTimeouts(input any) (time.Duration, time.Duration, error) {
	return 0, 0, errNotImplemented
}
func (s *State) mapLimits(input any) (int, float64, int, error) { return 0, 0, 0, errNotImplemented }
func (s *State) retry(errName string, attempts []int) (int, time.Duration, bool) {
	return 0, 0, false
}
func (s *State) catch(errName string) (*Catcher, bool)       { return nil, false }
func (c *Catcher) output(raw, errorOutput any) (any, error)  { return nil, errNotImplemented }
func evalPath(path string, v any) (any, error)               { return nil, errNotImplemented }
func evalIntrinsic(expr string, input, ctx any) (any, error) { return nil, errNotImplemented }
func checkPayloadSize(v any) error                           { return errNotImplemented }
func marshal(v any) ([]byte, error)                          { return nil, errNotImplemented }
