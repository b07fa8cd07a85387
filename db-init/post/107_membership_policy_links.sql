-- 107: a user's org-role policy links follow their active memberships, in the membership write's
-- own transaction (issue 21).
--
-- Each of the six org-role policies (snapshots/access.yaml) is linked to a user (directus_access
-- with `user` set) exactly when the user holds that role in an *active* membership of
-- organization_users. The links used to be written by the trm-integrity extension in an update
-- filter, which Directus runs on its root connection before it checks the caller: a refused update
-- (403) still granted the policy, and the org-admin policy carries the Data Studio (app_access).
-- A trigger writes the links in the transaction of the write itself, so a refused or rolled-back
-- write leaves none, whoever writes (Directus, the seed, SQL). The extension still clears
-- Directus's permission cache after a membership changes and reconciles every link at server start.
--
-- Design rule 9 (architecture.md): the trigger names no column (no `UPDATE OF`, no `WHEN`), so
-- Directus can still change every field of organization_users; the function decides inside.
CREATE SCHEMA IF NOT EXISTS trm_access;

-- The org-role policy links of these users made equal to what their active memberships name;
-- how many links it removed and added.
CREATE OR REPLACE FUNCTION trm_access.sync_policy_links(users uuid[]) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    removed integer;
    added integer;
BEGIN
    -- One lock for every writer of these links (the extension's reconcile takes it too).
    PERFORM pg_advisory_xact_lock(hashtext('trm-policy-links'));
    DELETE FROM directus_access a
     USING directus_policies p
     WHERE a.policy = p.id
       AND a."user" = ANY (users)
       AND p.name IN ('org-admin', 'race-director', 'timekeeper', 'marshal', 'participant', 'viewer')
       AND NOT EXISTS (SELECT 1 FROM organization_users m
                        WHERE m.user_id = a."user" AND m.role = p.name AND m.status = 'active');
    GET DIAGNOSTICS removed = ROW_COUNT;
    INSERT INTO directus_access (id, policy, "user")
    SELECT gen_random_uuid(), p.id, m.user_id
      FROM (SELECT DISTINCT user_id, role FROM organization_users
             WHERE user_id = ANY (users) AND status = 'active') m
      JOIN directus_policies p ON p.name = m.role
     WHERE NOT EXISTS (SELECT 1 FROM directus_access a WHERE a."user" = m.user_id AND a.policy = p.id);
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN removed + added;
END
$fn$;

CREATE OR REPLACE FUNCTION trm_access.membership_links_trigger() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    affected uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        affected := ARRAY[NEW.user_id];
    ELSIF TG_OP = 'DELETE' THEN
        affected := ARRAY[OLD.user_id];
    ELSIF NEW.user_id IS DISTINCT FROM OLD.user_id OR NEW.role IS DISTINCT FROM OLD.role
          OR NEW.status IS DISTINCT FROM OLD.status THEN
        affected := ARRAY[OLD.user_id, NEW.user_id];
    ELSE
        RETURN NULL;  -- nothing that decides a link changed
    END IF;
    PERFORM trm_access.sync_policy_links(affected);
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS organization_users_policy_links ON organization_users;
CREATE TRIGGER organization_users_policy_links
    AFTER INSERT OR UPDATE OR DELETE ON organization_users
    FOR EACH ROW EXECUTE FUNCTION trm_access.membership_links_trigger();

-- Memberships that exist already: their links as the trigger would write them.
SELECT trm_access.sync_policy_links(ARRAY(SELECT DISTINCT user_id FROM organization_users));

DO $check$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'organization_users_policy_links' AND NOT tgisinternal) THEN
        RAISE EXCEPTION '107: trigger organization_users_policy_links is missing';
    END IF;
END
$check$;
