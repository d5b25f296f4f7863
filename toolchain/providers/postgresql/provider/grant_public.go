package provider

// Extension of postgresql_grant for object_type "database", written for this build.
//
// The v1.7.1 provider cannot express what the newer upstream (and the @pulumi/postgresql docs)
// use to lock a database down: a Grant with role "public" and/or an empty privilege list, e.g.
//
//	new postgresql.Grant("revoke-public-connect", {
//	    database: db.name, role: "public", objectType: "database", privileges: [] });
//
// v1.7.1 requires at least one privilege, quotes the grantee as an identifier ("public" is then
// looked up as a role and fails) and checks in pg_roles that the role exists. For database
// grants whose role is PUBLIC or whose privilege list is empty, the functions below take over:
// create/update = REVOKE ALL ON DATABASE .. FROM <grantee>, then GRANT <privileges> if any;
// read = the grantee's effective database privileges (defaults included, via acldefault);
// delete = REVOKE ALL (as upstream does). Every other grant runs the v1.7.1 code unchanged.

import (
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-sdk/helper/schema"
	"github.com/lib/pq"
	upstream "github.com/terraform-providers/terraform-provider-postgresql/postgresql"
)

// grantMu serialises all grant writes of this process (ours and v1.7.1's). Grants on the same
// database all rewrite one pg_database row, and PostgreSQL rejects concurrent rewrites with
// "tuple concurrently updated". v1.7.1 serialises with a lock inside its Client, which is not
// reachable from here, so both paths take this one.
var grantMu sync.Mutex

type crudFunc = func(*schema.ResourceData, interface{}) error

func locked(f crudFunc) crudFunc {
	return func(d *schema.ResourceData, meta interface{}) error {
		grantMu.Lock()
		defer grantMu.Unlock()
		return f(d, meta)
	}
}

func isPublic(role string) bool { return strings.EqualFold(role, "public") }

// ours reports whether a grant is handled here instead of by the v1.7.1 code.
func ours(d *schema.ResourceData) bool {
	return isPublic(d.Get("role").(string)) || d.Get("privileges").(*schema.Set).Len() == 0
}

func extendGrant(r *schema.Resource) {
	// Allow an empty privilege list (meaning: revoke everything from the grantee).
	p := r.Schema["privileges"]
	p.MinItems = 0
	p.Required = false
	p.Optional = true

	create, read, del := r.Create, r.Read, r.Delete
	apply := func(d *schema.ResourceData, meta interface{}) error {
		if !ours(d) {
			return create(d, meta)
		}
		if err := publicGrantApply(d, meta); err != nil {
			return err
		}
		return publicGrantRead(d, meta)
	}
	r.Create = locked(apply)
	r.Update = locked(apply)
	r.Read = func(d *schema.ResourceData, meta interface{}) error {
		if !ours(d) {
			return read(d, meta)
		}
		return publicGrantRead(d, meta)
	}
	r.Delete = locked(func(d *schema.ResourceData, meta interface{}) error {
		if !ours(d) {
			return del(d, meta)
		}
		return publicGrantDelete(d, meta)
	})
}

func grantee(d *schema.ResourceData) string {
	role := d.Get("role").(string)
	if isPublic(role) {
		return "PUBLIC"
	}
	return pq.QuoteIdentifier(role)
}

func databaseOnly(d *schema.ResourceData) error {
	if ot := d.Get("object_type").(string); ot != "database" {
		return fmt.Errorf("postgresql_grant: role PUBLIC or an empty privilege list is only "+
			"supported for object_type \"database\" in this build (got %q)", ot)
	}
	return nil
}

func db(meta interface{}) *sql.DB { return meta.(*upstream.Client).DB() }

// exists reports whether a catalog row matches, e.g. exists(conn, "pg_database", "datname", name).
// table and column are constants of this file, never input.
func exists(conn *sql.DB, table, column string, value interface{}) (bool, error) {
	var n int
	if err := conn.QueryRow("SELECT count(*) FROM "+table+" WHERE "+column+"=$1", value).Scan(&n); err != nil {
		return false, fmt.Errorf("could not check if %s %v exists: %w", strings.TrimPrefix(table, "pg_"), value, err)
	}
	return n > 0, nil
}

func publicGrantApply(d *schema.ResourceData, meta interface{}) error {
	if err := databaseOnly(d); err != nil {
		return err
	}
	database := pq.QuoteIdentifier(d.Get("database").(string))
	privs := []string{}
	for _, v := range d.Get("privileges").(*schema.Set).List() {
		p := strings.ToUpper(v.(string))
		switch p {
		case "ALL", "CREATE", "CONNECT", "TEMPORARY", "TEMP":
		default:
			return fmt.Errorf("%s is not an allowed privilege for object type database", p)
		}
		privs = append(privs, p)
	}
	sort.Strings(privs)

	txn, err := db(meta).Begin()
	if err != nil {
		return fmt.Errorf("could not start transaction: %w", err)
	}
	defer func() { _ = txn.Rollback() }()
	if _, err := txn.Exec(fmt.Sprintf("REVOKE ALL PRIVILEGES ON DATABASE %s FROM %s", database, grantee(d))); err != nil {
		return fmt.Errorf("could not execute revoke query: %w", err)
	}
	if len(privs) > 0 {
		q := fmt.Sprintf("GRANT %s ON DATABASE %s TO %s", strings.Join(privs, ","), database, grantee(d))
		if d.Get("with_grant_option").(bool) {
			q += " WITH GRANT OPTION"
		}
		if _, err := txn.Exec(q); err != nil {
			return fmt.Errorf("could not execute grant query: %w", err)
		}
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("could not commit transaction: %w", err)
	}
	d.SetId(strings.Join([]string{d.Get("role").(string), d.Get("database").(string), "database"}, "_"))
	return nil
}

func publicGrantRead(d *schema.ResourceData, meta interface{}) error {
	if err := databaseOnly(d); err != nil {
		return err
	}
	conn := db(meta)
	found, err := exists(conn, "pg_database", "datname", d.Get("database"))
	if err != nil {
		return err
	}
	if !found {
		d.SetId("")
		return nil
	}
	// PUBLIC is grantee 0 in an ACL. A NULL datacl means the built-in defaults, which
	// acldefault spells out (PUBLIC: CONNECT, TEMPORARY).
	var rows *sql.Rows
	const acl = `SELECT DISTINCT a.privilege_type FROM pg_database d,
  LATERAL aclexplode(COALESCE(d.datacl, acldefault('d', d.datdba))) a WHERE d.datname = $1 AND `
	role := d.Get("role").(string)
	if isPublic(role) {
		rows, err = conn.Query(acl+"a.grantee = 0", d.Get("database"))
	} else {
		roleFound, roleErr := exists(conn, "pg_roles", "rolname", role)
		if roleErr != nil {
			return roleErr
		}
		if !roleFound {
			d.SetId("")
			return nil
		}
		rows, err = conn.Query(acl+"a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $2)", d.Get("database"), role)
	}
	if err != nil {
		return fmt.Errorf("could not read database privileges: %w", err)
	}
	defer rows.Close()
	privs := []interface{}{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return fmt.Errorf("could not scan database privilege: %w", err)
		}
		privs = append(privs, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return d.Set("privileges", schema.NewSet(schema.HashString, privs))
}

func publicGrantDelete(d *schema.ResourceData, meta interface{}) error {
	if err := databaseOnly(d); err != nil {
		return err
	}
	conn := db(meta)
	found, err := exists(conn, "pg_database", "datname", d.Get("database"))
	if err != nil || !found {
		return err
	}
	q := fmt.Sprintf("REVOKE ALL PRIVILEGES ON DATABASE %s FROM %s", pq.QuoteIdentifier(d.Get("database").(string)), grantee(d))
	if _, err := conn.Exec(q); err != nil {
		return fmt.Errorf("could not execute revoke query: %w", err)
	}
	return nil
}
