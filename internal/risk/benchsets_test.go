package risk

var benchSets = []string{"testdata/dev.jsonl", advDev, advDev2, advDev3, advHoldout}
