Attribute VB_Name = "XlarRibbon"
' xlar: the AR ribbon tab (its buttons are in customUI14.xml; this module stays ASCII).
' Every button calls XlarAction with its tag; Python (xlar.excel.actions) does the work.
' The dialogs below are called back from Python: InputBox and GetOpenFilename work on
' Windows and Mac alike.
Option Explicit

Public Sub XlarAction(control As IRibbonControl)
    RunPython "import xlar.excel.actions as a; a.dispatch('" & control.Tag & "')"
End Sub

Public Function XlarAsk(prompt As String, Optional default As String = "") As Variant
    XlarAsk = Application.InputBox(prompt, "xlar", default, Type:=2)
End Function

Public Function XlarPickFile(title As String) As Variant
    #If Mac Then
        XlarPickFile = Application.GetOpenFilename()
    #Else
        XlarPickFile = Application.GetOpenFilename("Bank statements (*.csv;*.sta;*.mt940;*.xml;*.txt)," & _
            "*.csv;*.sta;*.mt940;*.xml;*.txt,All files (*.*),*.*", 1, title)
    #End If
End Function
