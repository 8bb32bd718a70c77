package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tangkal/tangkal/internal/bundle"
)

func init() {
	register("verify-bundle", "check an evidence bundle offline: its Ed25519 signature and its history's hash chain", verifyBundleCmd)
}

// verifyBundleCmd checks a bundle file (GET /cases/{id}/bundle) without
// any access to tangkal: the signature, then the chain recomputed from
// the events, then the external copies' hashes against the events.
func verifyBundleCmd(_ context.Context, args []string) error {
	return verifyBundle(args, os.Stdout)
}

func verifyBundle(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("verify-bundle", flag.ContinueOnError)
	key := fs.String("public-key", "", "the published public key (base64, from GET /exports/bundle-key); without it the key inside the file is used and only its key id is shown")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: tangkal verify-bundle [--public-key BASE64] FILE")
	}
	doc, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	res, err := bundle.Check(doc, *key)
	if err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(out, string(b))
	} else {
		mark := func(ok bool) string {
			if ok {
				return "OK"
			}
			return "GAGAL / FAILED"
		}
		fmt.Fprintf(out, "Kasus / case: %s\n", res.CaseID)
		fmt.Fprintf(out, "Tanda tangan / signature (Ed25519, kunci / key %s): %s\n", res.KeyID, mark(res.SignatureOK))
		if res.KeyMatches != nil {
			fmt.Fprintf(out, "Kunci sama dengan yang diumumkan / key is the published one: %s\n", mark(*res.KeyMatches))
		} else {
			fmt.Fprintln(out, "Kunci tidak dibandingkan: bandingkan key id dengan GET /exports/bundle-key / key not compared: check the key id against GET /exports/bundle-key")
		}
		chain := mark(res.ChainOK)
		if res.ChainError != "" {
			chain += " - " + res.ChainError
		}
		fmt.Fprintf(out, "Rantai hash / hash chain (%d peristiwa / events): %s\n", res.Events, chain)
		anchor := mark(res.AnchorOK)
		if res.AnchorError != "" {
			anchor += " - " + res.AnchorError
		}
		fmt.Fprintf(out, "Salinan eksternal / external copy (%d catatan / records): %s\n", res.AnchorRecords, anchor)
		if !res.AnchorValid {
			fmt.Fprintln(out, "Catatan: pemeriksaan saat bundel dibuat melaporkan masalah (lihat bundle.anchor) / note: the check when the bundle was made reported problems (see bundle.anchor)")
		}
	}
	if !res.OK() {
		return errors.New("the bundle does not verify")
	}
	return nil
}
