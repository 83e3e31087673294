/**
 * An upstream Supabase database from before the project's migration (and before upstream's own
 * OpenRouter migration): `instances` without the project or OpenRouter columns, upstream's trigger
 * names, the Supabase roles. Condensed from upstream's `000_consolidated_complete_schema.sql`.
 */
/** Upstream's `instances` before its OpenRouter migration and without the project columns, with upstream's own trigger names. */
export const UPSTREAM_000 = `
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
  CREATE ROLE anon NOLOGIN NOINHERIT; CREATE ROLE authenticated NOLOGIN NOINHERIT; CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS; END IF; END $$;
CREATE SEQUENCE instance_id_seq START 1;
CREATE TABLE accounts (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), email TEXT UNIQUE NOT NULL, is_admin BOOLEAN DEFAULT FALSE, deleted_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ DEFAULT NOW(), updated_at TIMESTAMPTZ DEFAULT NOW());
CREATE TABLE subscriptions (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), account_id UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  tier TEXT NOT NULL DEFAULT 'free', status TEXT NOT NULL DEFAULT 'trialing', trial_ends_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ DEFAULT NOW(), updated_at TIMESTAMPTZ DEFAULT NOW());
CREATE TABLE instances (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id UUID REFERENCES accounts(id) ON DELETE CASCADE,
  subscription_id UUID NOT NULL UNIQUE REFERENCES subscriptions(id) ON DELETE CASCADE,
  instance_id INTEGER UNIQUE NOT NULL DEFAULT nextval('instance_id_seq'),
  subdomain TEXT UNIQUE NOT NULL, name TEXT,
  status TEXT NOT NULL DEFAULT 'provisioning' CHECK (status IN ('provisioning', 'running', 'stopped', 'error', 'deprovisioned', 'restarting')),
  tier TEXT DEFAULT 'free', instance_url TEXT, frontend_url TEXT, backend_url TEXT, api_url TEXT, matrix_url TEXT, matrix_server_url TEXT,
  memory_limit_mb INTEGER DEFAULT 512, cpu_limit DECIMAL(3,2) DEFAULT 0.5, agent_count INTEGER DEFAULT 0, config JSONB DEFAULT '{}'::jsonb,
  kubernetes_synced_at TIMESTAMPTZ, deprovisioned_at TIMESTAMPTZ, created_at TIMESTAMPTZ DEFAULT NOW(), updated_at TIMESTAMPTZ DEFAULT NOW());
CREATE FUNCTION update_updated_at_column() RETURNS TRIGGER AS $$ BEGIN NEW.updated_at = NOW(); RETURN NEW; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER update_instances_updated_at BEFORE UPDATE ON instances FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE FUNCTION set_subdomain_from_instance_id() RETURNS TRIGGER AS $$
BEGIN IF NEW.subdomain IS NULL OR NEW.subdomain = '' THEN NEW.subdomain := NEW.instance_id::text; END IF; RETURN NEW; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER trg_set_subdomain_from_instance_id BEFORE INSERT ON instances FOR EACH ROW EXECUTE FUNCTION set_subdomain_from_instance_id();
GRANT ALL ON instances, accounts, subscriptions TO service_role; GRANT USAGE, SELECT, UPDATE ON SEQUENCE instance_id_seq TO service_role;
ALTER TABLE instances ENABLE ROW LEVEL SECURITY;`;
