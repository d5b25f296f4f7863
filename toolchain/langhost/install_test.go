package main

import (
	"reflect"
	"testing"
)

func TestChoosePackageManager(t *testing.T) {
	dir := t.TempDir()
	if pm := choosePackageManager("auto", dir); pm != "npm" {
		t.Errorf("no lock file: %s", pm)
	}
	writeFile(t, dir, "pnpm-lock.yaml", "")
	if pm := choosePackageManager("auto", dir); pm != "pnpm" {
		t.Errorf("pnpm lock: %s", pm)
	}
	if pm := choosePackageManager("npm", dir); pm != "npm" {
		t.Errorf("explicit option must win over the lock file: %s", pm)
	}
	if got := installArgs("npm"); !reflect.DeepEqual(got, []string{"install", "--loglevel=error"}) {
		t.Errorf("npm args: %q", got)
	}
}
