package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tangkal/tangkal/internal/auth"
	"github.com/tangkal/tangkal/internal/localstack"
	"github.com/tangkal/tangkal/internal/platform"
)

func init() {
	register("token", "print a token the running local stack accepts: token --role auditor [--sub NAME] [--email ADDRESS]; token --role platform --sub facebook", token)
}

func token(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	roles := fs.String("role", "", "role(s), comma-separated: "+strings.Join(auth.AllRoles, ", "))
	sub := fs.String("sub", "", "subject (user name); default local-<role>")
	email := fs.String("email", "", "e-mail claim: an approver's inbox and decisions are the agency member's with this address (e.g. approver@kp2mi.local)")
	data := fs.String("data", envOr("TANGKAL_DATA", ".local"), "the local stack's data folder (holds the signing key)")
	ttl := fs.Duration("ttl", 12*time.Hour, "validity")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *roles == "" {
		return errors.New("--role is required (" + strings.Join(auth.AllRoles, ", ") + ")")
	}
	rs := strings.Split(*roles, ",")
	if slices.Contains(rs, auth.Platform) {
		// A platform's token names its platform and holds no other role.
		if len(rs) != 1 {
			return errors.New("--role platform cannot be combined with other roles")
		}
		cfg, err := platform.Default()
		if err != nil {
			return err
		}
		if _, err := cfg.Get(*sub); err != nil {
			return fmt.Errorf("--sub must name the platform (%s): %w", strings.Join(cfg.IDs(), ", "), err)
		}
		key, err := auth.LoadOrCreateKey(localstack.KeyPath(*data))
		if err != nil {
			return err
		}
		tok, err := auth.Signer{Key: key}.IssuePlatform(*sub, *ttl)
		if err != nil {
			return err
		}
		fmt.Println(tok)
		return nil
	}
	if *sub == "" {
		*sub = "local-" + rs[0]
	}
	tok, err := issueTokenFor(*data, *sub, *email, rs, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

// issueToken signs a token for sub with roles using the signing key of the
// local stack whose data folder is dataDir.
func issueToken(dataDir, sub string, roles []string, ttl time.Duration) (string, error) {
	return issueTokenFor(dataDir, sub, "", roles, ttl)
}

// issueTokenFor is issueToken with an e-mail claim.
func issueTokenFor(dataDir, sub, email string, roles []string, ttl time.Duration) (string, error) {
	key, err := auth.LoadOrCreateKey(localstack.KeyPath(dataDir))
	if err != nil {
		return "", err
	}
	return auth.Signer{Key: key}.IssueFor(sub, email, roles, ttl)
}
