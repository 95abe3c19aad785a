-- Online-model deployments (inference/online/) register snapshots of their shared Redis state as versions of
-- the deployment's model: the inference server allocates the next version number (models.latest_version)
-- and inserts the version row (registry/register.ts). Nothing else on those tables.
GRANT INSERT ON model_versions TO autopilot_inference;
GRANT UPDATE (latest_version) ON models TO autopilot_inference;
