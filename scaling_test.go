package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseShardIDs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"", nil, false},
		{"  ", nil, false},
		{"3", []int{3}, false},
		{"0-3,8", []int{0, 1, 2, 3, 8}, false},
		{"8, 2-3 ,2", []int{2, 3, 8}, false},
		{"3-1", nil, true},
		{"-1", nil, true},
		{"a", nil, true},
		{"1,,2", nil, true},
		{"1-", nil, true},
	} {
		got, err := parseShardIDs(tt.in)
		if !slices.Equal(got, tt.want) || (err != nil) != tt.wantErr {
			t.Errorf("parseShardIDs(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestScalingProblems(t *testing.T) {
	t.Parallel()
	const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tt := range []struct {
		name string
		cfg  config
		want map[string]string // variable -> a word its problem contains
	}{
		{"defaults", config{}, map[string]string{}},
		{"endpoint with a key", config{InteractionsAddr: ":8081", DiscordPublicKey: key}, map[string]string{}},
		{"endpoint without a key", config{InteractionsAddr: ":8081"}, map[string]string{"DISCORD_PUBLIC_KEY": "not set"}},
		{"endpoint with a short key", config{InteractionsAddr: ":8081", DiscordPublicKey: key[:62]}, map[string]string{"DISCORD_PUBLIC_KEY": "64 hex digits"}},
		{"endpoint with a key that is not hex", config{InteractionsAddr: ":8081", DiscordPublicKey: strings.Repeat("z", 64)}, map[string]string{"DISCORD_PUBLIC_KEY": "Public Key"}},
		{"a key without the endpoint", config{DiscordPublicKey: "nonsense"}, map[string]string{}},
		{"shard ids past the count", config{ShardCount: 4, ShardIDs: "2-4"}, map[string]string{"SHARD_IDS": "SHARD_COUNT is 4"}},
		{"shard ids malformed", config{ShardIDs: "0-x"}, map[string]string{"SHARD_IDS": "0-3,8"}},
	} {
		got := tt.cfg.scalingProblems()
		if len(got) != len(tt.want) {
			t.Errorf("%s: scalingProblems() = %v; want problems for %v", tt.name, got, tt.want)
			continue
		}
		for name, word := range tt.want {
			if !strings.Contains(got[name], word) {
				t.Errorf("%s: scalingProblems()[%s] = %q; want it to say %q", tt.name, name, got[name], word)
			}
		}
	}
}

func TestStartFailsWithoutThePublicKey(t *testing.T) {
	t.Parallel()
	_, err := loadConfig(envOf(t, map[string]string{
		"DISCORD_TOKEN": "x.y.z", "WHISUL_API_KEY": "wk", "INTERACTIONS_ADDR": "127.0.0.1:0", "HTTP_ADDR": "",
	}))
	if err == nil || !strings.Contains(err.Error(), "DISCORD_PUBLIC_KEY is not set") {
		t.Fatalf("loadConfig() = %v; want DISCORD_PUBLIC_KEY reported as missing", err)
	}
}
