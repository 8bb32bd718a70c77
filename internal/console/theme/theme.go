// Package theme is the look tangkal's pages share: the console's stylesheet
// and its Content-Security-Policy. The approval link's confirm page
// (package approval) links the same stylesheet, so a person sees one look.
package theme

import _ "embed"

// CSS is the stylesheet, served by the console at StylesheetPath.
//
//go:embed console.css
var CSS []byte

// StylesheetPath is where the console serves CSS (same origin as every
// page of the HTTP API).
const StylesheetPath = "/console/static/console.css"

// CSP is the policy of every page in this look: nothing inline (no script,
// no style attribute or element), only this origin's stylesheet and
// script, forms posting to this origin, never framed.
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Brand is the console's name as the header shows it.
const Brand = "tangkal"
