import type { Messages } from '../i18n/zh.ts'

/** MapLibre's own texts (the canvas's label, zoom buttons' titles…) in the UI's language: English otherwise. */
export function mapLocale(m: Messages): Record<string, string> {
  const u = m.mapUi
  return {
    'Map.Title': u.title,
    'NavigationControl.ZoomIn': u.zoomIn,
    'NavigationControl.ZoomOut': u.zoomOut,
    'NavigationControl.ResetBearing': u.resetBearing,
    'AttributionControl.ToggleAttribution': u.toggleAttribution,
    'AttributionControl.MapFeedback': u.mapFeedback,
    'FullscreenControl.Enter': u.fullscreenEnter,
    'FullscreenControl.Exit': u.fullscreenExit,
    'Popup.Close': u.popupClose,
    'Marker.Title': u.marker,
    'LogoControl.Title': u.logo,
  }
}
