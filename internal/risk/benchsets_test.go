package risk

var benchSets = []string{"testdata/dev.jsonl"}
