package bot

import "testing"

func TestWordFilter(t *testing.T) {
	t.Parallel()
	f := newWordFilter([]string{"Crème brûlée", "ass", "  ", "nsfw"})
	tests := []struct {
		prompt string
		want   bool
	}{
		{"a song about creme brulee", true},
		{"CRÈME-BRÛLÉE!!! anthem", true},
		{"crème, brûlée", true},
		{"a classy bass line", false},
		{"ass", true},
		{"kick ASS drums", true},
		{"a.s.s", false},
		{"ＮＳＦＷ lyrics", true},
		{"nsfwish", false},
		{"crème caramel brûlée", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := f.blocks(tt.prompt); got != tt.want {
			t.Errorf("blocks(%q) = %v; want %v", tt.prompt, got, tt.want)
		}
	}
	if newWordFilter(nil).blocks("anything") {
		t.Error("an empty filter blocked a prompt")
	}
}
