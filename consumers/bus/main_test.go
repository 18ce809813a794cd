package bus

import (
	"os"
	"testing"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }
