"""W&B's names (wandb 0.31) for settings, ``init()`` arguments and environment variables, and
what trackwell does with each: the tables ``settings.py`` and ``start.py`` resolve through.

A name trackwell has a field for is used; a W&B name with no meaning here is accepted and said
once (``ignored_note``); anything else is a ``UsageError`` naming it. docs/sdk-parity.md lists
them all.
"""

from __future__ import annotations

# Settings fields whose W&B name differs from trackwell's field.
SETTING_ALIASES = {
    "x_label": "label",
    "x_primary": "primary",
    "root_dir": "dir",
    "heartbeat_seconds": "heartbeat_interval",
    "x_stats_sampling_interval": "stats_sampling_interval",
}

# W&B settings accepted without effect: they configure W&B's cloud, its service process, git and
# job capture, sweeps/launch, or W&B's own file-stream tuning. A field trackwell gains (e.g. a
# stats setting) is used instead: the dataclass's own fields are looked up first.
SETTINGS_IGNORED = frozenset("""
    allow_media_symlink allow_offline_artifacts anonymous azure_account_url_to_access_key
    app_url_override code_dir console_multipart console_chunk_max_bytes console_chunk_max_seconds
    capture_loggers credentials_file disable_code disable_git disable_git_fork_point
    disable_job_creation docker email organization force finish_timeout_raises git_commit git_remote
    git_remote_url git_root host http_proxy https_proxy identity_token_file ignore_globs
    insecure_disable_ssl job_name job_source label_disable launch launch_config_path login_timeout
    manager notebook_name program program_abspath program_relpath relogin resumed sagemaker_disable
    settings_system stop_fn max_end_of_run_history_metrics max_end_of_run_summary_metrics
    show_colors show_emoji show_errors show_info show_warnings stop_on_fatal_error summary_timeout
    summary_warnings sweep_id sweep_param_path symlink sync_tensorboard
    table_raise_on_max_row_limit_exceeded use_dot_wandb username start_method mode_flag
    x_cli_only_mode x_disable_viewer x_disable_machine_info
    x_executable x_extra_http_headers x_file_stream_max_bytes x_file_stream_max_line_bytes
    x_file_stream_transmit_interval x_file_stream_no_gzip x_file_stream_retry_max
    x_file_stream_retry_wait_min_seconds x_file_stream_retry_wait_max_seconds
    x_file_stream_timeout_seconds x_file_transfer_retry_max x_file_transfer_retry_wait_min_seconds
    x_file_transfer_retry_wait_max_seconds x_file_transfer_timeout_seconds x_files_dir
    x_flow_control_custom x_flow_control_disabled x_graphql_retry_max
    x_graphql_retry_wait_min_seconds x_graphql_retry_wait_max_seconds x_graphql_timeout_seconds
    x_internal_check_process x_jupyter_name x_jupyter_path x_jupyter_root x_live_policy_rate_limit
    x_live_policy_wait_time x_log_level x_network_buffer x_proxies x_runqueue_item_id
    x_save_requirements x_server_side_derived_summary x_server_side_expand_glob_metrics
    x_service_transport x_service_wait x_skip_transaction_log x_start_time x_stats_pid
    x_stats_neuron_monitor_config_path x_stats_dcgm_exporter
    x_stats_open_metrics_endpoints x_stats_open_metrics_filters x_stats_open_metrics_http_headers
    x_stats_disk_paths x_stats_cpu_count x_stats_cpu_logical_count x_stats_gpu_count
    x_stats_gpu_type x_stats_gpu_device_ids x_stats_buffer_size x_stats_coreweave_metadata_base_url
    x_stats_coreweave_metadata_endpoint x_stats_track_process_tree x_stats_no_cgroup x_sync
    x_sync_dir_suffix x_update_finish_state
""".split())

# init() arguments W&B takes that mean nothing here (accepted, said once when given).
INIT_IGNORED = ("force", "tensorboard", "sync_tensorboard", "monitor_gym", "anonymous", "magic")

# field -> environment variables, first set wins: TRACKWELL_* then W&B's. resume_from/fork_from
# have none: a variable left set would rewind or fork every run started from that shell.
ENV: dict[str, tuple[str, ...]] = {
    "project": ("TRACKWELL_PROJECT", "WANDB_PROJECT"),
    "entity": ("TRACKWELL_ENTITY", "WANDB_ENTITY"),
    "mode": ("TRACKWELL_MODE", "WANDB_MODE"),
    "base_url": ("TRACKWELL_BASE_URL", "WANDB_BASE_URL"),
    "api_key": ("TRACKWELL_API_KEY",),  # WANDB_API_KEY: see settings.wandb_api_key
    "dir": ("TRACKWELL_DIR", "WANDB_DIR"),
    "run_id": ("TRACKWELL_RUN_ID", "WANDB_RUN_ID"),
    "run_name": ("TRACKWELL_NAME", "WANDB_NAME"),
    "run_group": ("TRACKWELL_RUN_GROUP", "WANDB_RUN_GROUP"),
    "run_job_type": ("TRACKWELL_JOB_TYPE", "WANDB_JOB_TYPE"),
    "run_notes": ("TRACKWELL_NOTES", "WANDB_NOTES"),
    "run_tags": ("TRACKWELL_TAGS", "WANDB_TAGS"),
    "config_paths": ("TRACKWELL_CONFIG_PATHS", "WANDB_CONFIG_PATHS"),
    "console": ("TRACKWELL_CONSOLE", "WANDB_CONSOLE"),
    "strict": ("TRACKWELL_STRICT",),
    "quiet": ("TRACKWELL_QUIET", "WANDB_QUIET"),
    "silent": ("TRACKWELL_SILENT", "WANDB_SILENT"),
    "finish_timeout": ("TRACKWELL_FINISH_TIMEOUT",),
    "flush_interval": ("TRACKWELL_FLUSH_INTERVAL",),
    "init_timeout": ("TRACKWELL_INIT_TIMEOUT", "WANDB_INIT_TIMEOUT"),
    "resume": ("TRACKWELL_RESUME", "WANDB_RESUME"),
    "heartbeat_interval": ("TRACKWELL_HEARTBEAT_INTERVAL",),
    "signals": ("TRACKWELL_SIGNALS",),
    "preempt_signals": ("TRACKWELL_PREEMPT_SIGNALS",),
    "fsync_interval": ("TRACKWELL_FSYNC_INTERVAL",),
    "signal_grace": ("TRACKWELL_SIGNAL_GRACE",),
    "label": ("TRACKWELL_LABEL",),
    "save_code": ("TRACKWELL_SAVE_CODE", "WANDB_SAVE_CODE"),
    "x_disable_stats": ("TRACKWELL_DISABLE_STATS",),
    "x_stats_per_core": ("TRACKWELL_STATS_PER_CORE",),
    "x_disable_meta": ("TRACKWELL_DISABLE_META",),
    "stats_sampling_interval": ("TRACKWELL_STATS_SAMPLING_INTERVAL",),
    "allow_val_change": (),
    "reinit": (),
}
# Read and ignored, documented: WANDB_START_METHOD, WANDB_SERVICE, WANDB_DISABLE_GIT, ...
# WANDB_DISABLED=true is mode "disabled" (W&B's older switch), after WANDB_MODE.
DISABLED_ENV = ("TRACKWELL_DISABLED", "WANDB_DISABLED")

# W&B's cloud: a WANDB_BASE_URL pointing there is left for wandb, not followed.
WANDB_CLOUD_HOSTS = ("api.wandb.ai", "wandb.ai")


def ignored_note(names: list[str]) -> str:
    return (f"{', '.join(sorted(names))}: W&B options with no effect in trackwell, accepted and ignored "
            "(docs/sdk-parity.md)")
