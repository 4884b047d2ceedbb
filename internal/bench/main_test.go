package bench

import (
	"testing"

	"github.com/fetchall/fetchall/internal/leaktest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, leaktest.LeanPathCleaners...)
}
