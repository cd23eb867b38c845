// pm2 ecosystem file for chatapp: one process, restarted when it dies or grows past the
// memory limit, with timestamped log files. systemd (../systemd) is the simpler choice on
// a Linux server; this file is for hosts already run with pm2.
//
//   pm2 start ecosystem.config.js && pm2 save && pm2 startup   # start now and at boot
//   pm2 logs chatapp                                           # follow the logs
//
// Settings come from /etc/chatapp/chatapp.env (the same file the systemd unit reads; a
// different one via CHATAPP_ENV_FILE). Where the program and its logs live can be moved
// with CHATAPP_BIN and CHATAPP_LOG_DIR in pm2's own environment.
//
// Log rotation is a pm2 module, configured with `pm2 set`; the values are in `logrotate`
// below. Install and apply them once:
//   pm2 install pm2-logrotate
//   node -p 'Object.entries(require("./ecosystem.config.js").logrotate)
//     .map(([k, v]) => `pm2 set pm2-logrotate:${k} ${v}`).join("\n")' | sh
// max_size: rotate a log file when it reaches this size; retain: keep this many rotated
// files per log; compress: gzip rotated files; rotateInterval: also rotate daily (cron).
"use strict";

const fs = require("fs");
const path = require("path");

// Reads VARIABLE=value lines like systemd's EnvironmentFile (comments and blanks skipped,
// optional quotes removed); a missing file is no error, as with systemd's leading "-".
function readEnvFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if (err.code === "ENOENT") return {};
    throw err;
  }
  const env = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const eq = line.indexOf("=");
    if (!line || line.startsWith("#") || eq < 1) continue;
    let value = line.slice(eq + 1).trim();
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    env[line.slice(0, eq).trim()] = value;
  }
  return env;
}

const envFile = process.env.CHATAPP_ENV_FILE || "/etc/chatapp/chatapp.env";
const logDir = process.env.CHATAPP_LOG_DIR || "/var/log/chatapp";
const env = {
  CHATAPP_DATA_DIR: "/var/lib/chatapp",
  CHATAPP_HOST: "127.0.0.1",
  CHATAPP_PORT: "8080",
  PYTHONUNBUFFERED: "1",
  ...readEnvFile(envFile),
};

module.exports = {
  apps: [
    {
      name: "chatapp",
      script: process.env.CHATAPP_BIN || "/opt/chatapp/.venv/bin/chatapp",
      interpreter: "none", // a console script, not a node program
      cwd: env.CHATAPP_DATA_DIR, // NiceGUI keeps its storage under ./.nicegui
      env,
      // One process: pm2's cluster mode is for node programs. To run several, see
      // docs/scaling.md (separate ports behind nginx, shared MongoDB and Redis).
      instances: 1,
      exec_mode: "fork",
      autorestart: true,
      max_memory_restart: "1G",
      // A process that dies within min_uptime counts as unstable; after max_restarts of
      // those pm2 stops trying, rather than looping on a broken configuration.
      min_uptime: "10s",
      max_restarts: 10,
      exp_backoff_restart_delay: 200,
      // uvicorn finishes open requests on SIGINT/SIGTERM; give it time before SIGKILL.
      kill_timeout: 20000,
      error_file: path.join(logDir, "error.log"),
      out_file: path.join(logDir, "out.log"),
      merge_logs: true, // one file per stream, not one per instance
      time: true, // prefix every line with a timestamp
    },
  ],
  logrotate: {
    max_size: "10M",
    retain: 14,
    compress: true,
    dateFormat: "YYYY-MM-DD_HH-mm-ss",
    rotateInterval: "0 0 * * *",
  },
};
