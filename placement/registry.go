package placement

import (
	"fmt"
	"sync"

	"github.com/berth-io/berth/placement/framework"
	"github.com/berth-io/berth/placement/plugins"
)

var (
	outOfTreeMu sync.Mutex
	outOfTree   = framework.Registry{}
)

// Register adds an out-of-tree plugin to every registry NewRegistry builds
// from then on, which is how a hub binary gains extra plugins: call it from
// an init function or from main before the hub starts, then name the plugin
// in the placement config or in a PlacementPolicy. A name already used by an
// in-tree or another registered plugin is an error.
func Register(name string, factory framework.Factory) error {
	outOfTreeMu.Lock()
	defer outOfTreeMu.Unlock()
	if _, ok := plugins.NewInTreeRegistry()[name]; ok {
		return fmt.Errorf("plugin %q is an in-tree plugin", name)
	}
	return outOfTree.Register(name, factory)
}

// MustRegister is Register that panics on error, for init functions.
func MustRegister(name string, factory framework.Factory) {
	if err := Register(name, factory); err != nil {
		panic(err)
	}
}

// NewRegistry returns the in-tree plugins, the plugins added with Register,
// and those of extra. A name present twice is an error.
func NewRegistry(extra ...framework.Registry) (framework.Registry, error) {
	reg := plugins.NewInTreeRegistry()
	outOfTreeMu.Lock()
	err := reg.Merge(outOfTree)
	outOfTreeMu.Unlock()
	if err != nil {
		return nil, err
	}
	for _, e := range extra {
		if err := reg.Merge(e); err != nil {
			return nil, err
		}
	}
	return reg, nil
}
