import { lookupFailure, templateProblems } from "./vsphereVm";

describe("lookupFailure", () => {
    test("an object vCenter does not have is named with its key and datacenter", () => {
        const error = new Error("invoke of vsphere:index/getDatastore:getDatastore failed: error fetching datastore: datastore 'nope' not found (...)");
        expect(lookupFailure("vsphereDatastore", "datastore", "nope", "DC0", error)).toBe('pgha:vsphereDatastore: no datastore "nope" in datacenter "DC0"');
        expect(lookupFailure("vsphereDatacenter", "datacenter", "dcX", undefined, new Error("datacenter 'dcX' not found"))).toBe('pgha:vsphereDatacenter: no datacenter "dcX"');
    });

    test("any other failure keeps the provider's first line after the invoke prefix", () => {
        const error = new Error("invoke of vsphere:index/getNetwork:getNetwork failed: ServerFaultCode: Permission to perform this operation was denied.\nmore detail");
        expect(lookupFailure("vsphereNetwork", "network", "VM Network", "DC0", error)).toBe(
            'pgha:vsphereNetwork: looking up network "VM Network" in datacenter "DC0" failed: ServerFaultCode: Permission to perform this operation was denied.',
        );
    });
});

describe("templateProblems", () => {
    const template = { disks: [{ size: 20, label: "disk0", thinProvisioned: true, eagerlyScrub: false, unitNumber: 0 }], networkInterfaceTypes: ["vmxnet3"] };

    test("a disk at least the template's is accepted", () => {
        expect(templateProblems("t", 20, template)).toEqual([]);
        expect(templateProblems("t", 60, template)).toEqual([]);
    });

    test("a disk smaller than the template's names pgha:vmDiskGiB", () => {
        expect(templateProblems("centos79", 15, template)).toEqual([
            'pgha:vmDiskGiB: 15 GiB is smaller than the disk of template "centos79" (20 GiB); a clone\'s disk can grow, not shrink',
        ]);
    });

    test("a template without a disk or a network adapter names pgha:vsphereTemplate", () => {
        expect(templateProblems("bare", 60, { disks: [], networkInterfaceTypes: [] })).toEqual([
            'pgha:vsphereTemplate: "bare" has no disk to clone',
            'pgha:vsphereTemplate: "bare" has no network adapter to connect to pgha:vsphereNetwork',
        ]);
    });
});
