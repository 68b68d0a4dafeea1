import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { start } from './state.ts'
import './field.css'

// The shell is kept by a service worker so the app opens with no signal (web/public/m/sw.js).
if ('serviceWorker' in navigator) void navigator.serviceWorker.register('/m/sw.js', { scope: '/m/' }).catch(() => {})

void start()
createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>)
