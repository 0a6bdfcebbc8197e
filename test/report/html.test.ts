// Privacy post-processing of Allure's HTML: the analytics script goes, outside URLs are neutralised,
// code inlined as base64 data: URIs is cleaned too; XML namespace names and loopback stay.
import { describe, expect, it } from 'vitest';
import { outsideUrls, reportCode, sanitizeHtml } from '../../src/report/html.js';

const GTAG = `<script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>
    <script>
        window.dataLayer = window.dataLayer || [];
        function gtag(){dataLayer.push(arguments);}
        gtag('config', 'G-X');
    </script>`;

describe('sanitizeHtml', () => {
  it('removes the gtag loader and its inline script, keeps the report scripts', () => {
    const html = `<html><head><link rel="preconnect" href="https://fonts.example.com"></head><body><script>window.allure = {};</script>${GTAG}<script async>window.allureReportDataReady = true;</script></body></html>`;
    const out = sanitizeHtml(html);
    expect(out).not.toMatch(/googletagmanager|gtag|dataLayer|fonts\.example/);
    expect(out).toContain('<script>window.allure = {};</script>');
    expect(out).toContain('window.allureReportDataReady = true;');
    expect(outsideUrls(out)).toEqual([]);
  });

  it('cleans code inlined as base64 and leaves namespace names and loopback alone', () => {
    const code = 'const a="https://trace.playwright.dev",n=document.createElementNS("http://www.w3.org/2000/svg","svg"),b="https://localhost",c="http://127.0.0.1:8080/x";';
    const html = `<script src="data:text/javascript;base64,${Buffer.from(code).toString('base64')}"></script>`;
    expect(outsideUrls(reportCode(html))).toEqual(['https://trace.playwright.dev']);
    const clean = reportCode(sanitizeHtml(html));
    expect(outsideUrls(clean)).toEqual([]);
    expect(clean).toContain('about:invalid#trace.playwright.dev');
    expect(clean).toContain('"http://www.w3.org/2000/svg"');
    expect(clean).toContain('"http://127.0.0.1:8080/x"');
  });

  it('reports outside URLs a page would contact', () => {
    expect(outsideUrls('<a href="https://allurereport.org">x</a> <img src="http://cdn.example.net/a.png">')).toEqual(['https://allurereport.org', 'http://cdn.example.net/a.png']);
  });
});
