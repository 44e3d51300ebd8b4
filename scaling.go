package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// scalingProblems checks the settings that grow the bot past one process:
// shards (SHARD_COUNT, SHARD_IDS) and the interactions endpoint
// (INTERACTIONS_ADDR, DISCORD_PUBLIC_KEY).
func (c config) scalingProblems() map[string]string {
	problems := map[string]string{}
	ids, err := parseShardIDs(c.ShardIDs)
	if err != nil {
		problems["SHARD_IDS"] = err.Error()
	}
	if c.ShardCount > 0 {
		if i := slices.IndexFunc(ids, func(id int) bool { return id >= c.ShardCount }); i >= 0 {
			problems["SHARD_IDS"] = fmt.Sprintf("SHARD_IDS names shard %d, but SHARD_COUNT is %d (shards 0-%d): name shards below SHARD_COUNT, or raise it", ids[i], c.ShardCount, c.ShardCount-1)
		}
	}
	if c.InteractionsAddr != "" {
		if _, err := parsePublicKey(c.DiscordPublicKey); err != nil {
			problems["DISCORD_PUBLIC_KEY"] = err.Error()
		}
	}
	return problems
}

// parseShardIDs reads SHARD_IDS: comma-separated shard ids and ranges,
// such as "0-3,8"; empty means all shards (nil).
func parseShardIDs(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	bad := func(part string) error {
		return fmt.Errorf("SHARD_IDS is %q: %q is not a shard id or range; write ids and ranges such as 0-3,8, or leave it empty for all shards", s, part)
	}
	var ids []int
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil || first < 0 {
			return nil, bad(part)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil || last < first {
				return nil, bad(part)
			}
		}
		for id := first; id <= last; id++ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// parsePublicKey reads DISCORD_PUBLIC_KEY: the 64 hex digits the developer
// portal shows as the application's public key.
func parsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("DISCORD_PUBLIC_KEY is not set: INTERACTIONS_ADDR needs it to verify Discord's requests; copy it from the developer portal (your application → General Information → Public Key), or unset INTERACTIONS_ADDR to use the gateway")
	}
	key, err := hex.DecodeString(s)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("DISCORD_PUBLIC_KEY is not a public key (want %d hex digits): copy it again from the developer portal (your application → General Information → Public Key)", 2*ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(key), nil
}

// listenInteractions opens INTERACTIONS_ADDR, if set, before anything
// connects, so a taken port fails the start with words that say what to do.
func listenInteractions(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, configError{[]string{fmt.Sprintf("INTERACTIONS_ADDR %s cannot be opened (%v): set it to a free host:port, different from HTTP_ADDR", addr, err)}}
	}
	return l, nil
}

// registerShardMetrics exports how many of this process's gateway shards
// are connected, and how many it runs (both 0 in HTTP mode).
func registerShardMetrics(reg *prometheus.Registry, shards func() (connected, total int)) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "songbot_gateway_shards_connected",
			Help: "Gateway shards of this process that are connected.",
		}, func() float64 { up, _ := shards(); return float64(up) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "songbot_gateway_shards",
			Help: "Gateway shards this process runs (SHARD_IDS; 0 with INTERACTIONS_ADDR).",
		}, func() float64 { _, n := shards(); return float64(n) }),
	)
}
