/** End-to-end tests on the lab of systemd-nspawn machines (root only): `npm run lab:e2e`. */
const base = require("./jest.config");
module.exports = { ...base, roots: ["<rootDir>/tests"], testMatch: ["**/*.e2e.ts"], testTimeout: 1800000 };
