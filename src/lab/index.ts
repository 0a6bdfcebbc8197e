// The lab's API for the rest of the program: bring it up (or reuse it) and get its inventory.
export { ensureLab, labUp, resolveSpec, type EnsureLabOptions, type UpOptions, type UpResult } from './up.js';
export { labDown } from './down.js';
export { snapshotLab, restoreLab, listSnapshots } from './snapshot.js';
export { labStatus, formatStatus } from './status.js';
export { writeInventory, inventoryPath, inventoryYamlFor, deploymentVarsFile, labVarsFor, labInventoryFor } from './inventory.js';
export { readDeployment, recordStageDone, deployedInstalls, describeRecord, tutorialInventoryPath, type LabDeployment, type LabTutorialRecord } from './deployment.js';
export { defaultSpec, loadSpec, type LabSpec, type LabHost } from './spec.js';
export { labDir, labName, readState, requireState } from './state.js';
