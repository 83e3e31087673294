-- MindRoom provisioner: the `instances` table the provisioner mirrors tenant status into
-- (spec provisioner.md §10.1), plus the project columns stack_name, last_job_id, last_error.
--
-- Idempotent by construction (every statement is IF NOT EXISTS, OR REPLACE or guarded), so it can
-- run on a fresh database, twice, or on a database that already has upstream's schema: there it
-- only adds the project columns and re-asserts triggers, indexes and grants under upstream's names.
--
-- accounts/subscriptions: a fresh database gets minimal versions (the columns the provisioner and
-- the instances foreign keys need); an existing upstream database keeps its own, richer tables.
-- Supabase roles anon/authenticated/service_role are created when missing and the migration role
-- may create them (plain PostgreSQL: tests, self-hosting without Supabase); grants to a role that
-- still does not exist are skipped. RLS policies that need Supabase's `auth.uid()` are created only
-- when that function and the roles exist; otherwise RLS stays on with no policies, i.e. deny-all for
-- anon/authenticated, and service_role (BYPASSRLS) and the table owner are unaffected.

-- Plain PostgreSQL lacks Supabase's roles. A superuser creates them; a migration role that may not
-- (no CREATEROLE, or not superuser for BYPASSRLS) leaves them out with a notice, and the grants
-- below skip roles that do not exist, so the migration never fails over roles.
DO $$
DECLARE
    r RECORD;
BEGIN
    FOR r IN SELECT * FROM (VALUES ('anon', ''), ('authenticated', ''), ('service_role', ' BYPASSRLS')) AS v(name, extra) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT%s', r.name, r.extra);
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE NOTICE 'role % not created (%): its grants are skipped', r.name, SQLERRM;
            END;
        END IF;
    END LOOP;
END
$$;

-- Global, starts at 1: hosted instance ids are small positive integers used in DNS names.
CREATE SEQUENCE IF NOT EXISTS instance_id_seq START 1;

CREATE TABLE IF NOT EXISTS accounts (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email TEXT UNIQUE NOT NULL,
    tier TEXT DEFAULT 'free' CHECK (tier IN ('free', 'byok', 'hobby', 'pro', 'enterprise')),
    is_admin BOOLEAN DEFAULT FALSE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS subscriptions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    tier TEXT NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'byok', 'hobby', 'pro', 'enterprise')),
    status TEXT NOT NULL DEFAULT 'trialing'
        CHECK (status IN ('trialing', 'active', 'cancelled', 'past_due', 'paused')),
    trial_ends_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS instances (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id UUID REFERENCES accounts(id) ON DELETE CASCADE,
    -- Not unique: the one-instance-per-subscription rule lives in application code (spec §10.1).
    subscription_id UUID NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    instance_id INTEGER UNIQUE NOT NULL DEFAULT nextval('instance_id_seq'),
    -- NOT NULL without a default: the BEFORE INSERT trigger below fills it from instance_id.
    subdomain TEXT UNIQUE NOT NULL,
    name TEXT,
    status TEXT NOT NULL DEFAULT 'provisioning'
        CHECK (status IN ('provisioning', 'running', 'stopped', 'error', 'deprovisioned', 'restarting')),
    tier TEXT DEFAULT 'free',
    instance_url TEXT,
    frontend_url TEXT,
    backend_url TEXT,
    api_url TEXT,
    matrix_url TEXT,
    matrix_server_url TEXT,
    openrouter_key_hash TEXT,
    openrouter_key_label TEXT,
    openrouter_key_limit_usd INTEGER,
    openrouter_key_limit_reset TEXT,
    openrouter_key_created_at TIMESTAMPTZ,
    memory_limit_mb INTEGER DEFAULT 512,
    cpu_limit DECIMAL(3,2) DEFAULT 0.5,
    agent_count INTEGER DEFAULT 0,
    config JSONB DEFAULT '{}'::jsonb,
    kubernetes_synced_at TIMESTAMPTZ,
    deprovisioned_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- Every column the provisioner writes is (re)asserted, so an existing upstream table from before
-- upstream's own later migrations (matrix URLs, Kubernetes sync timestamp, OpenRouter metadata)
-- accepts the mirror's rows too: PostgREST refuses a body naming a column it does not have.
ALTER TABLE instances ADD COLUMN IF NOT EXISTS tier TEXT DEFAULT 'free';
ALTER TABLE instances ADD COLUMN IF NOT EXISTS instance_url TEXT;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS frontend_url TEXT;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS backend_url TEXT;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS api_url TEXT;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS matrix_url TEXT;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS matrix_server_url TEXT;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS openrouter_key_hash TEXT;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS openrouter_key_label TEXT;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS openrouter_key_limit_usd INTEGER;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS openrouter_key_limit_reset TEXT;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS openrouter_key_created_at TIMESTAMPTZ;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS kubernetes_synced_at TIMESTAMPTZ;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS deprovisioned_at TIMESTAMPTZ;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS created_at TIMESTAMPTZ DEFAULT NOW();
ALTER TABLE instances ADD COLUMN IF NOT EXISTS updated_at TIMESTAMPTZ DEFAULT NOW();

-- Project columns.
ALTER TABLE instances ADD COLUMN IF NOT EXISTS stack_name TEXT;   -- Pulumi stack of the tenant, e.g. production-42
ALTER TABLE instances ADD COLUMN IF NOT EXISTS last_job_id TEXT;  -- provisioner job that last changed the row
ALTER TABLE instances ADD COLUMN IF NOT EXISTS last_error TEXT;   -- short, redacted reason of the last failure

CREATE INDEX IF NOT EXISTS idx_instances_account_id ON instances(account_id);
CREATE INDEX IF NOT EXISTS idx_instances_subscription_id ON instances(subscription_id);
CREATE INDEX IF NOT EXISTS idx_instances_status ON instances(status);
CREATE INDEX IF NOT EXISTS idx_instances_subdomain ON instances(subdomain);
CREATE INDEX IF NOT EXISTS idx_instances_instance_id ON instances(instance_id);
CREATE INDEX IF NOT EXISTS idx_instances_kubernetes_synced_at ON instances(kubernetes_synced_at);

-- Same function and trigger names as upstream, so a database that has them is updated in place
-- instead of gaining a second trigger.
CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE TRIGGER update_instances_updated_at BEFORE UPDATE ON instances
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE OR REPLACE FUNCTION set_subdomain_from_instance_id()
RETURNS TRIGGER AS $$
BEGIN
    IF NEW.subdomain IS NULL OR NEW.subdomain = '' THEN
        NEW.subdomain := NEW.instance_id::text;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE TRIGGER trg_set_subdomain_from_instance_id BEFORE INSERT ON instances
    FOR EACH ROW EXECUTE FUNCTION set_subdomain_from_instance_id();

-- The provisioner allocates ids itself and inserts them explicitly (provisioner/service/ids.ts), which
-- leaves instance_id_seq behind; anything still taking the DB default (upstream's platform backend,
-- an operator's INSERT) would then collide on instance_id/subdomain. An explicit id past the sequence
-- moves the sequence up to it. SECURITY DEFINER: setval needs UPDATE on the sequence, which
-- `authenticated` (admin inserts) does not have.
CREATE OR REPLACE FUNCTION mindroom_advance_instance_id_seq()
RETURNS TRIGGER LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF NEW.instance_id > (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM instance_id_seq) THEN
        PERFORM setval('instance_id_seq', NEW.instance_id);
    END IF;
    RETURN NEW;
END;
$$;
REVOKE EXECUTE ON FUNCTION mindroom_advance_instance_id_seq() FROM PUBLIC;

CREATE OR REPLACE TRIGGER trg_mindroom_advance_instance_id_seq AFTER INSERT ON instances
    FOR EACH ROW EXECUTE FUNCTION mindroom_advance_instance_id_seq();

-- Rows inserted with explicit ids before this migration ran.
DO $$
BEGIN
    PERFORM setval('instance_id_seq', m)
    FROM (SELECT max(instance_id) AS m FROM instances) AS top
    WHERE m > (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM instance_id_seq);
END
$$;

-- Grants (spec §10.1), each only when its role exists. GRANT is idempotent.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT ALL ON instances TO service_role;
        GRANT USAGE, SELECT, UPDATE ON SEQUENCE instance_id_seq TO service_role;
        GRANT ALL ON accounts, subscriptions TO service_role;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        GRANT SELECT, INSERT, UPDATE ON instances TO authenticated;
        GRANT USAGE, SELECT ON SEQUENCE instance_id_seq TO authenticated;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
        GRANT SELECT ON instances TO anon;
        GRANT USAGE ON SEQUENCE instance_id_seq TO anon;
    END IF;
END
$$;

ALTER TABLE instances ENABLE ROW LEVEL SECURITY;

-- Policies need Supabase's auth.uid(); re-created on every run so the definitions converge.
DO $$
BEGIN
    IF to_regprocedure('auth.uid()') IS NULL
        OR (SELECT count(*) FROM pg_roles WHERE rolname IN ('authenticated', 'service_role')) < 2 THEN
        RAISE NOTICE 'auth.uid() not found: instances RLS is on without policies (deny-all except service_role)';
        RETURN;
    END IF;
    EXECUTE $sql$
        CREATE OR REPLACE FUNCTION mindroom_is_admin() RETURNS BOOLEAN
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
        'SELECT EXISTS (SELECT 1 FROM accounts WHERE id = auth.uid() AND is_admin = TRUE)'
    $sql$;
    REVOKE EXECUTE ON FUNCTION mindroom_is_admin() FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION mindroom_is_admin() TO authenticated, service_role;

    DROP POLICY IF EXISTS mindroom_instances_select ON instances;
    CREATE POLICY mindroom_instances_select ON instances FOR SELECT TO authenticated USING (
        account_id = auth.uid()
        OR subscription_id IN (SELECT id FROM subscriptions WHERE account_id = auth.uid())
        OR mindroom_is_admin()
    );
    DROP POLICY IF EXISTS mindroom_instances_admin_update ON instances;
    CREATE POLICY mindroom_instances_admin_update ON instances FOR UPDATE TO authenticated
        USING (mindroom_is_admin()) WITH CHECK (mindroom_is_admin());
    DROP POLICY IF EXISTS mindroom_instances_admin_insert ON instances;
    CREATE POLICY mindroom_instances_admin_insert ON instances FOR INSERT TO authenticated, service_role
        WITH CHECK (mindroom_is_admin() OR current_user = 'service_role');
    DROP POLICY IF EXISTS mindroom_instances_admin_delete ON instances;
    CREATE POLICY mindroom_instances_admin_delete ON instances FOR DELETE TO authenticated
        USING (mindroom_is_admin());
END
$$;
