/** End-to-end tests on the namespace lab (root only): `npm run lab:e2e`. */
const base = require("./jest.config");
module.exports = { ...base, roots: ["<rootDir>/tests"], testMatch: ["**/*.e2e.ts"], testTimeout: 1800000 };
