package proxmoxve

import "testing"

// The tokens @muhlba91/pulumi-proxmoxve 8.6.0 sends (its __pulumiType / invoke strings).
func TestTokens(t *testing.T) {
	resources := map[string]string{
		"proxmox_virtual_environment_container":                       "proxmoxve:index/containerLegacy:ContainerLegacy",
		"proxmox_haresource":                                          "proxmoxve:index/haresource:Haresource",
		"proxmox_hagroup":                                             "proxmoxve:index/hagroup:Hagroup",
		"proxmox_harule":                                              "proxmoxve:index/harule:Harule",
		"proxmox_virtual_environment_haresource":                      "proxmoxve:index/haresourceLegacy:HaresourceLegacy",
		"proxmox_virtual_environment_firewall_rules":                  "proxmoxve:firewall/rulesLegacy:RulesLegacy",
		"proxmox_virtual_environment_firewall_options":                "proxmoxve:firewall/optionsLegacy:OptionsLegacy",
		"proxmox_virtual_environment_cluster_firewall":                "proxmoxve:cluster/firewallLegacy:FirewallLegacy",
		"proxmox_virtual_environment_cluster_firewall_security_group": "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy",
		"proxmox_pool_membership":                                     "proxmoxve:pool/membership:Membership",
		"proxmox_virtual_environment_pool":                            "proxmoxve:index/poolLegacy:PoolLegacy",
		"proxmox_virtual_environment_vm2":                             "proxmoxve:index/vm2Legacy:Vm2Legacy",
		"proxmox_node_disk_zfs":                                       "proxmoxve:node/disk/zfs:Zfs",
		"proxmox_sdn_fabric_node_openfabric":                          "proxmoxve:sdn/fabric/node/openfabric:Openfabric",
	}
	for tf, want := range resources {
		got, err := resourceToken(tf)
		if err != nil || string(got) != want {
			t.Errorf("resource %s: got %q (%v), want %q", tf, got, err, want)
		}
	}
	dataSources := map[string]string{
		"proxmox_virtual_environment_container":  "proxmoxve:index/getContainerLegacy:getContainerLegacy",
		"proxmox_virtual_environment_containers": "proxmoxve:index/getContainersLegacy:getContainersLegacy",
		"proxmox_virtual_environment_node":       "proxmoxve:index/getNodeLegacy:getNodeLegacy",
		"proxmox_virtual_environment_nodes":      "proxmoxve:index/getNodesLegacy:getNodesLegacy",
		"proxmox_node_config":                    "proxmoxve:node/getConfig:getConfig",
	}
	for tf, want := range dataSources {
		got, err := dataSourceToken(tf)
		if err != nil || string(got) != want {
			t.Errorf("data source %s: got %q (%v), want %q", tf, got, err, want)
		}
	}
	if _, err := resourceToken("other_thing"); err == nil {
		t.Error("expected an error for a name without the proxmox_ prefix")
	}
}
