"""The team database's schema for shared workspaces (PostgreSQL 13+), and its roles.

One database holds every shared workspace; every row carries its `workspace_id`. Row-level
security lets a person's login role see (and write) only the rows of workspaces whose member
list names it: `enclave.members`, read through `enclave.my_workspaces()`.

Roles (docs/DEPLOYMENT.md, "Team servers"):
- the owner (the administrator who runs SCHEMA_SQL, e.g. `enclave_admin`) owns the tables and is
  the only one who bypasses row-level security (tables are not FORCEd, so backups see all);
- `enclave_user` (NOLOGIN): the group every person's LOGIN role is granted; it may read and
  write rows of its own workspaces only, create a workspace (becoming its first member) and
  add or remove members of workspaces it belongs to, all through SECURITY DEFINER functions.

SCHEMA_SQL is idempotent: run it again after an upgrade. `enclave workspaces team-sql` prints it.
"""

from __future__ import annotations

SCHEMA_VERSION = 2
USER_ROLE = "enclave_user"

SCHEMA_SQL = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'enclave_user') THEN
    CREATE ROLE enclave_user NOLOGIN;
  END IF;
END $$;
CREATE SCHEMA IF NOT EXISTS enclave;
REVOKE ALL ON SCHEMA enclave FROM PUBLIC;
GRANT USAGE ON SCHEMA enclave TO enclave_user;

CREATE TABLE IF NOT EXISTS enclave.meta(key text PRIMARY KEY, value text NOT NULL);
INSERT INTO enclave.meta VALUES ('schema_version', '2')
  ON CONFLICT (key) DO UPDATE SET value = excluded.value;

CREATE TABLE IF NOT EXISTS enclave.workspaces(
    id text PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by name NOT NULL DEFAULT session_user,
    collection text NOT NULL UNIQUE,
    embedder_name text,
    embedder_dimension integer,
    version_seq bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS enclave.members(
    workspace_id text NOT NULL REFERENCES enclave.workspaces(id) ON DELETE CASCADE,
    member name NOT NULL,
    PRIMARY KEY (workspace_id, member)
);
CREATE TABLE IF NOT EXISTS enclave.documents(
    workspace_id text NOT NULL REFERENCES enclave.workspaces(id) ON DELETE CASCADE,
    id text NOT NULL,
    name text NOT NULL,
    path text NOT NULL,
    sha256 text NOT NULL DEFAULT '',
    size bigint NOT NULL DEFAULT 0,
    mtime double precision NOT NULL DEFAULT 0,
    status text NOT NULL,
    chunk_count integer NOT NULL DEFAULT 0,
    pages integer NOT NULL DEFAULT 0,
    reason text NOT NULL DEFAULT '',
    warnings text NOT NULL DEFAULT '[]',
    version bigint NOT NULL DEFAULT 0,
    ingested_at text NOT NULL,
    last_attempt_sha256 text NOT NULL DEFAULT '',
    last_attempt_outcome text NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, path)
);
CREATE TABLE IF NOT EXISTS enclave.chunks(
    rid bigserial UNIQUE,
    workspace_id text NOT NULL REFERENCES enclave.workspaces(id) ON DELETE CASCADE,
    id text NOT NULL,
    document_id text NOT NULL,
    version bigint NOT NULL,
    seq integer NOT NULL,
    page integer NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    text text NOT NULL,
    ntokens integer NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON enclave.chunks(workspace_id, document_id, seq);
-- The lexical index: FTS5's own tokens (rag.word_tokens) with their positions, per chunk.
CREATE TABLE IF NOT EXISTS enclave.postings(
    workspace_id text NOT NULL,
    term text NOT NULL,
    chunk_rid bigint NOT NULL REFERENCES enclave.chunks(rid) ON DELETE CASCADE,
    positions integer[] NOT NULL,
    PRIMARY KEY (workspace_id, term, chunk_rid)
);
CREATE INDEX IF NOT EXISTS postings_by_chunk ON enclave.postings(chunk_rid);
-- Version 2: each posting carries its tf (its positions counted) and its chunk's token count,
-- and one index holds them with the chunk, so ranking a term reads the index only
-- (rag.pg_lexical). Rows written by version 1 are filled in here.
ALTER TABLE enclave.postings ADD COLUMN IF NOT EXISTS tf integer;
ALTER TABLE enclave.postings ADD COLUMN IF NOT EXISTS ntokens integer;
UPDATE enclave.postings p SET tf = cardinality(p.positions), ntokens = c.ntokens
  FROM enclave.chunks c WHERE c.rid = p.chunk_rid AND (p.tf IS NULL OR p.ntokens IS NULL);
CREATE INDEX IF NOT EXISTS postings_impacts ON enclave.postings(workspace_id, term)
  INCLUDE (chunk_rid, tf, ntokens);
-- Version 2: each term's document frequency (the chunks holding it), kept by the postings'
-- statement triggers in the writer's own transaction, so a reader's snapshot always agrees
-- with the postings it sees. Filled from the postings the first time (the same transaction).
DO $$ BEGIN
  IF to_regclass('enclave.terms') IS NULL THEN
    CREATE TABLE enclave.terms(
        workspace_id text NOT NULL,
        term text NOT NULL,
        df bigint NOT NULL,
        PRIMARY KEY (workspace_id, term)
    );
    INSERT INTO enclave.terms SELECT workspace_id, term, count(*) FROM enclave.postings
      GROUP BY workspace_id, term;
  END IF;
END $$;
CREATE OR REPLACE FUNCTION enclave.count_new_postings() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO enclave.terms AS t
    SELECT workspace_id, term, count(*) FROM new_postings GROUP BY workspace_id, term
    ORDER BY workspace_id, term
  ON CONFLICT (workspace_id, term) DO UPDATE SET df = t.df + excluded.df;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION enclave.count_old_postings() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE enclave.terms t SET df = t.df - o.n
    FROM (SELECT workspace_id, term, count(*) AS n FROM old_postings
          GROUP BY workspace_id, term) AS o
    WHERE t.workspace_id = o.workspace_id AND t.term = o.term;
  DELETE FROM enclave.terms t USING (SELECT DISTINCT workspace_id, term FROM old_postings) AS o
    WHERE t.workspace_id = o.workspace_id AND t.term = o.term AND t.df <= 0;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION enclave.count_new_postings(), enclave.count_old_postings() FROM PUBLIC;
-- Likewise each workspace's live chunks and their tokens (BM25's N and mean length).
DO $$ BEGIN
  IF to_regclass('enclave.sizes') IS NULL THEN
    CREATE TABLE enclave.sizes(
        workspace_id text PRIMARY KEY,
        chunks bigint NOT NULL,
        tokens bigint NOT NULL
    );
    INSERT INTO enclave.sizes SELECT workspace_id, count(*), sum(ntokens) FROM enclave.chunks
      GROUP BY workspace_id;
  END IF;
END $$;
CREATE OR REPLACE FUNCTION enclave.count_new_chunks() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO enclave.sizes AS s
    SELECT workspace_id, count(*), sum(ntokens) FROM new_chunks GROUP BY workspace_id
  ON CONFLICT (workspace_id) DO UPDATE
    SET chunks = s.chunks + excluded.chunks, tokens = s.tokens + excluded.tokens;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION enclave.count_old_chunks() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE enclave.sizes s SET chunks = s.chunks - o.n, tokens = s.tokens - o.t
    FROM (SELECT workspace_id, count(*) AS n, sum(ntokens) AS t FROM old_chunks
          GROUP BY workspace_id) AS o
    WHERE s.workspace_id = o.workspace_id;
  DELETE FROM enclave.sizes s USING (SELECT DISTINCT workspace_id FROM old_chunks) AS o
    WHERE s.workspace_id = o.workspace_id AND s.chunks <= 0;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION enclave.count_new_chunks(), enclave.count_old_chunks() FROM PUBLIC;
DROP TRIGGER IF EXISTS chunks_counted_in ON enclave.chunks;
CREATE TRIGGER chunks_counted_in AFTER INSERT ON enclave.chunks
  REFERENCING NEW TABLE AS new_chunks FOR EACH STATEMENT
  EXECUTE FUNCTION enclave.count_new_chunks();
DROP TRIGGER IF EXISTS chunks_counted_out ON enclave.chunks;
CREATE TRIGGER chunks_counted_out AFTER DELETE ON enclave.chunks
  REFERENCING OLD TABLE AS old_chunks FOR EACH STATEMENT
  EXECUTE FUNCTION enclave.count_old_chunks();
DROP TRIGGER IF EXISTS postings_counted_in ON enclave.postings;
CREATE TRIGGER postings_counted_in AFTER INSERT ON enclave.postings
  REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT
  EXECUTE FUNCTION enclave.count_new_postings();
DROP TRIGGER IF EXISTS postings_counted_out ON enclave.postings;
CREATE TRIGGER postings_counted_out AFTER DELETE ON enclave.postings
  REFERENCING OLD TABLE AS old_postings FOR EACH STATEMENT
  EXECUTE FUNCTION enclave.count_old_postings();
CREATE TABLE IF NOT EXISTS enclave.document_texts(
    workspace_id text NOT NULL REFERENCES enclave.workspaces(id) ON DELETE CASCADE,
    document_id text NOT NULL,
    version bigint NOT NULL,
    text text NOT NULL,
    PRIMARY KEY (workspace_id, document_id)
);
CREATE TABLE IF NOT EXISTS enclave.pages(
    workspace_id text NOT NULL REFERENCES enclave.workspaces(id) ON DELETE CASCADE,
    document_id text NOT NULL,
    number integer NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    PRIMARY KEY (workspace_id, document_id, number)
);
CREATE TABLE IF NOT EXISTS enclave.pending_vectors(
    workspace_id text NOT NULL REFERENCES enclave.workspaces(id) ON DELETE CASCADE,
    document_id text NOT NULL,
    version bigint NOT NULL,
    PRIMARY KEY (workspace_id, document_id, version)
);

-- Membership. SECURITY DEFINER: they read enclave.members as its owner, for session_user.
CREATE OR REPLACE FUNCTION enclave.my_workspaces() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(workspace_id), '{}') FROM enclave.members
  WHERE member = session_user
$$;
CREATE OR REPLACE FUNCTION enclave.create_workspace(ws text, ws_name text, ws_collection text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO enclave.workspaces(id, name, collection) VALUES (ws, ws_name, ws_collection);
  INSERT INTO enclave.members VALUES (ws, session_user);
END $$;
CREATE OR REPLACE FUNCTION enclave.add_member(ws text, who name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT ws = ANY(enclave.my_workspaces()) THEN
    RAISE EXCEPTION 'not a member of workspace %', ws USING ERRCODE = '42501';
  END IF;
  INSERT INTO enclave.members VALUES (ws, who) ON CONFLICT DO NOTHING;
END $$;
CREATE OR REPLACE FUNCTION enclave.remove_member(ws text, who name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT ws = ANY(enclave.my_workspaces()) THEN
    RAISE EXCEPTION 'not a member of workspace %', ws USING ERRCODE = '42501';
  END IF;
  DELETE FROM enclave.members WHERE workspace_id = ws AND member = who;
END $$;
CREATE OR REPLACE FUNCTION enclave.drop_workspace(ws text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT ws = ANY(enclave.my_workspaces()) THEN
    RAISE EXCEPTION 'not a member of workspace %', ws USING ERRCODE = '42501';
  END IF;
  DELETE FROM enclave.workspaces WHERE id = ws;
END $$;
REVOKE ALL ON FUNCTION enclave.my_workspaces(), enclave.create_workspace(text, text, text),
  enclave.add_member(text, name), enclave.remove_member(text, name),
  enclave.drop_workspace(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION enclave.my_workspaces(), enclave.create_workspace(text, text, text),
  enclave.add_member(text, name), enclave.remove_member(text, name),
  enclave.drop_workspace(text) TO enclave_user;

GRANT SELECT ON enclave.meta, enclave.members, enclave.terms, enclave.sizes TO enclave_user;
GRANT SELECT, UPDATE ON enclave.workspaces TO enclave_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON enclave.documents, enclave.chunks, enclave.postings,
  enclave.document_texts, enclave.pages, enclave.pending_vectors TO enclave_user;
GRANT USAGE ON SEQUENCE enclave.chunks_rid_seq TO enclave_user;

-- Row-level security: a member's rows only. (SELECT ...) makes it one look-up per statement.
ALTER TABLE enclave.workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE enclave.members ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS members_only ON enclave.workspaces;
CREATE POLICY members_only ON enclave.workspaces
  USING (id = ANY ((SELECT enclave.my_workspaces())::text[]));
DROP POLICY IF EXISTS members_only ON enclave.members;
CREATE POLICY members_only ON enclave.members
  USING (workspace_id = ANY ((SELECT enclave.my_workspaces())::text[]));
DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['documents', 'chunks', 'postings', 'document_texts', 'pages',
                           'pending_vectors', 'terms', 'sizes'] LOOP
    EXECUTE format('ALTER TABLE enclave.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS members_only ON enclave.%I', t);
    EXECUTE format('CREATE POLICY members_only ON enclave.%I USING '
                   '(workspace_id = ANY ((SELECT enclave.my_workspaces())::text[])) WITH CHECK '
                   '(workspace_id = ANY ((SELECT enclave.my_workspaces())::text[]))', t);
  END LOOP;
END $$;
"""


def add_user_sql(role: str) -> str:
    """The statements an administrator runs to let one person use shared workspaces (the
    password is set separately, never in a file: `\\password ROLE` in psql)."""
    quoted = '"' + role.replace('"', '""') + '"'
    return f"CREATE ROLE {quoted} LOGIN; GRANT enclave_user TO {quoted};"
