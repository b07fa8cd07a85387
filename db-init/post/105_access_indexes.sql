-- 105: indexes the access rules' dynamic filters need (snapshots/access.yaml, README "Access as code").
--
-- Every org policy filters rows by "the current user has role R in this row's organisation":
-- Directus turns `organizations.members _some {user_id = $CURRENT_USER, role = R}` into a
-- subquery on organization_users by (user_id, role) → organization_id. A participant's own rows go
-- through entry_crew by user_id; vehicles and devices through their registrations by vehicle /
-- device; a participant's devices through entry_devices by device. The composite uniques of 101
-- lead with organization_id / entry_id and do not serve lookups by the other column.
CREATE INDEX IF NOT EXISTS organization_users_user_role_idx ON organization_users (user_id, role, organization_id);
CREATE INDEX IF NOT EXISTS entry_crew_user_idx ON entry_crew (user_id, entry_id);
CREATE INDEX IF NOT EXISTS organization_vehicles_vehicle_idx ON organization_vehicles (vehicle_id, organization_id);
CREATE INDEX IF NOT EXISTS organization_devices_device_idx ON organization_devices (device_id, organization_id);
CREATE INDEX IF NOT EXISTS entry_devices_device_idx ON entry_devices (device_id, entry_id);
